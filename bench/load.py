"""Load benchmark: unary RPC throughput and latency against a real inventory server.

Reads are driven by h2load (a C HTTP/2 load generator, so the client does not
eat the CPU the server needs); writes by a grpc.aio client, because each write
needs a fresh request_id. By default the script creates a throwaway database
on the local PostgreSQL, migrates it, seeds it, starts `inventory-server serve`
on a free port, runs every scenario and prints a table, then cleans up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass

import grpc
import psycopg
from grpc import aio
from harness import cpu_seconds, memory_kib, percentile, running_server, throwaway_database

from inventory_client.v1 import product_pb2, product_pb2_grpc, stock_pb2, stock_pb2_grpc


@dataclass
class Result:
    scenario: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def grpc_frame(message: bytes) -> bytes:
    """A gRPC length-prefixed message (uncompressed), as h2load must send it."""
    return struct.pack(">BI", 0, len(message)) + message


def seed(dsn: str, products: int) -> tuple[list[str], str, str]:
    """Products, one warehouse and one user, inserted directly (the API is measured, not seeding)."""
    with psycopg.connect(dsn) as conn:
        ids = [
            str(r[0])
            for r in conn.execute(
                "INSERT INTO products (sku, name) SELECT 'BENCH-' || g, 'Bench product ' || g "
                "FROM generate_series(1, %s) g RETURNING id",
                (products,),
            ).fetchall()
        ]
        row = conn.execute(
            "INSERT INTO warehouses (code, name) VALUES ('BENCH-WH', 'Bench') RETURNING id"
        ).fetchone()
        user = conn.execute(
            "INSERT INTO users (email, display_name, role, password_hash) "
            "VALUES ('bench@example.com', 'Bench', 'clerk', '!') RETURNING id"
        ).fetchone()
        conn.commit()
    if row is None or user is None:
        raise RuntimeError("seeding returned no rows")
    return ids, str(row[0]), str(user[0])


def h2load(target: str, method: str, body: bytes, *, requests: int, clients: int, streams: int) -> Result:
    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
        f.write(grpc_frame(body))
        path = f.name
    try:
        out = subprocess.run(
            [
                "h2load",
                f"http://{target}{method}",
                "-n",
                str(requests),
                "-c",
                str(clients),
                "-m",
                str(streams),
                "-d",
                path,
                "-H",
                "content-type: application/grpc",
                "-H",
                "te: trailers",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(path)
    finished = re.search(r"finished in ([\d.]+)(m?s)", out)
    seconds = float(finished.group(1)) / (1000 if finished.group(2) == "ms" else 1) if finished else 0.0
    succeeded = int(re.search(r"(\d+) succeeded", out).group(1))  # type: ignore[union-attr]
    latency = re.search(r"time for request:\s+\S+\s+\S+\s+(\S+)\s+(\S+)", out)
    mean = _ms(latency.group(1)) if latency else 0.0
    return Result(method.rsplit("/", 1)[1], succeeded, seconds, mean, 0.0, requests - succeeded)


def _ms(text: str) -> float:
    value = float(re.sub(r"[a-z]+$", "", text))
    if text.endswith("us"):
        return value / 1000
    if text.endswith("ms"):
        return value
    return value * 1000


async def aio_writes(
    target: str,
    scenario: str,
    total: int,
    concurrency: int,
    product_ids: list[str],
    warehouse: str,
    user: str,
) -> Result:
    latencies: list[float] = []
    errors = 0
    async with aio.insecure_channel(target) as channel:
        products = product_pb2_grpc.ProductServiceStub(channel)
        stock = stock_pb2_grpc.StockServiceStub(channel)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(total):
            queue.put_nowait(i)

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                i = queue.get_nowait()
                started = time.perf_counter()
                try:
                    if scenario == "CreateProduct":
                        await products.CreateProduct(
                            product_pb2.CreateProductRequest(
                                product=product_pb2.Product(sku=f"W-{uuid.uuid4().hex[:16]}", name="w"),
                                request_id=str(uuid.uuid4()),
                            ),
                            timeout=10,
                        )
                    else:
                        await stock.ReceiveStock(
                            stock_pb2.ReceiveStockRequest(
                                product_id=product_ids[i % len(product_ids)],
                                warehouse_id=warehouse,
                                quantity=1,
                                request_id=str(uuid.uuid4()),
                                performed_by=user,
                            ),
                            timeout=10,
                        )
                except grpc.RpcError:
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Result(
        scenario, total - errors, elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99), errors
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000, help="requests per read scenario")
    parser.add_argument("--writes", type=int, default=3000, help="requests per write scenario")
    parser.add_argument("--clients", type=int, default=8, help="h2load connections")
    parser.add_argument("--streams", type=int, default=8, help="h2load concurrent streams per connection")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent aio write calls")
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--pool-max-size", default="10")
    args = parser.parse_args()
    if shutil.which("h2load") is None:
        print("h2load not found: apt-get install nghttp2-client", file=sys.stderr)
        return 2
    with throwaway_database() as dsn:
        product_ids, warehouse, user = seed(dsn, args.products)
        with running_server(dsn, {"INVENTORY_POOL_MAX_SIZE": args.pool_max_size}) as server:
            results = run(args, server.target, product_ids, warehouse, user)
            cpu, (_, rss) = cpu_seconds(server.pid), memory_kib(server.pid)
    print(f"\n{'scenario':<16}{'ok':>8}{'errors':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for r in results:
        print(f"{r.scenario:<16}{r.requests:>8}{r.errors:>8}{r.rps:>10.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}")
    print("(h2load scenarios report the mean latency in the p50 column and no p99)")
    print(f"server: {cpu:.1f} s CPU, peak RSS {rss / 1024:.0f} MiB, pool max {args.pool_max_size}")
    return 0 if all(r.errors == 0 for r in results) else 1


def run(
    args: argparse.Namespace, target: str, product_ids: list[str], warehouse: str, user: str
) -> list[Result]:
    get = product_pb2.GetProductRequest(id=product_ids[0]).SerializeToString()
    listing = product_pb2.ListProductsRequest(page_size=50).SerializeToString()
    kw = {"requests": args.requests, "clients": args.clients, "streams": args.streams}
    results = [
        h2load(target, "/inventory.v1.ProductService/GetProduct", get, **kw),
        h2load(target, "/inventory.v1.ProductService/ListProducts", listing, **kw),
    ]
    for scenario in ("CreateProduct", "ReceiveStock"):
        results.append(
            asyncio.run(
                aio_writes(target, scenario, args.writes, args.concurrency, product_ids, warehouse, user)
            )
        )
    return results


if __name__ == "__main__":
    raise SystemExit(main())
