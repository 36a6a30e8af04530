"""ImportProducts benchmark: streaming throughput and the server's memory.

By default it creates a throwaway database on the local PostgreSQL
(``BENCH_ADMIN_DSN``, default postgresql://postgres@127.0.0.1:5432/postgres),
migrates it, starts ``inventory-server serve`` on a free port, streams
``--rows`` products twice (first pass: every sku new -> inserts; second pass:
the same skus -> updates), prints rows/s and the server's RSS before and its
peak RSS after (VmHWM from /proc), then stops the server and drops the database.

With ``--target host:port`` it streams to a running server instead and starts
nothing; pass ``--server-pid`` as well to get RSS figures (same machine only).
Use a fresh ``--prefix`` against a server whose database you care about: the
rows it imports stay there.

    .venv/bin/python bench/bench_import.py                       # 100,000 rows, throwaway server
    .venv/bin/python bench/bench_import.py --rows 1000000
    .venv/bin/python bench/bench_import.py --target 127.0.0.1:50051 --server-pid 1234
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Iterator

import grpc
from harness import cpu_seconds, memory_kib, running_server, throwaway_database

from inventory_client.v1 import product_pb2, product_pb2_grpc


def requests(prefix: str, rows: int, name: str) -> list[product_pb2.ImportProductsRequest]:
    """Built before the clock starts, so that the figure is the server's, not protobuf's in the client."""
    return [
        product_pb2.ImportProductsRequest(
            product=product_pb2.Product(
                sku=f"{prefix}-{i:08d}",
                name=f"{name} {i}",
                description="benchmark product with a description of ordinary length",
                unit_price_minor=i % 100_000,
                currency_code="EUR",
                reorder_point=i % 50,
                attributes={"colour": "blue", "size": str(i % 7)},
            )
        )
        for i in range(rows)
    ]


def run_pass(
    stub: product_pb2_grpc.ProductServiceStub, batch: list[product_pb2.ImportProductsRequest], timeout: float
) -> tuple[product_pb2.ImportProductsResponse, float]:
    def stream() -> Iterator[product_pb2.ImportProductsRequest]:
        yield from batch

    started = time.perf_counter()
    reply = stub.ImportProducts(stream(), timeout=timeout)
    return reply, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--target", help="a running server (host:port); default: start one")
    parser.add_argument("--server-pid", type=int, help="with --target: the server's pid, for RSS figures")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--prefix", default=f"BENCH-{uuid.uuid4().hex[:6]}")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()

    if args.target is not None:
        run(args, args.target, args.server_pid)
        return 0
    with throwaway_database() as dsn, running_server(dsn, {"INVENTORY_LOG_LEVEL": "INFO"}) as server:
        run(args, server.target, server.pid)
    return 0


def run(args: argparse.Namespace, target: str, pid: int | None) -> None:
    """Both passes against ``target``; ``pid`` (same machine) for CPU and memory figures."""
    options = [("grpc.max_send_message_length", 16 * 1024 * 1024)]
    with grpc.insecure_channel(target, options=options) as channel:
        stub = product_pb2_grpc.ProductServiceStub(channel)
        rss_before = memory_kib(pid)[0] if pid else 0
        print(f"ImportProducts, {args.rows:,} rows per pass, target {target}")
        for label, name in (("insert", "first"), ("update", "second")):
            batch = requests(args.prefix, args.rows, name)
            cpu_before = cpu_seconds(pid) if pid else 0.0
            reply, seconds = run_pass(stub, batch, args.timeout)
            cpu = f", server CPU {cpu_seconds(pid) - cpu_before:.1f} s" if pid else ""
            del batch
            print(
                f"  {label:6s}: {seconds:7.2f} s  {args.rows / seconds:9,.0f} rows/s  "
                f"(inserted {reply.inserted_count:,}, updated {reply.updated_count:,}, "
                f"rejected {reply.rejected_count:,}{cpu})"
            )
        if pid:
            _, peak = memory_kib(pid)
            print(f"  server RSS before: {rss_before / 1024:.0f} MiB, peak: {peak / 1024:.0f} MiB")
        else:
            print("  server RSS: not measured (pass --server-pid)")


if __name__ == "__main__":
    raise SystemExit(main())
