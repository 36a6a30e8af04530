"""The benchmark: every scenario and its anchor, side by side in one run, one table.

    .venv/bin/python bench/run.py              # the full run (see bench/README.md for its flags)
    .venv/bin/python bench/run.py --quick      # under a minute: proves it works, figures are rough

It creates a throwaway migrated database on BENCH_ADMIN_DSN (default the local
PostgreSQL), seeds it, starts ``inventory-server serve`` (cache on, then cache
off) and the anchors itself, and drops everything afterwards:

* reads (GetProduct cache hit / cache off, GetStockLevel, ListProducts page of
  50) are driven by h2load (C; Debian package nghttp2-client) with
  pre-encoded gRPC bodies; the anchor is a bare grpc.aio echo server
  (``echo_server.py``) under the same h2load settings, and for the point query
  also raw psycopg running the same SELECT over a pool-sized set of connections;
* writes (Receive/Ship/Reserve/TransferStock, CreateProduct; unique request_ids,
  32 concurrent by default) by a grpc.aio client in this process (not the
  server's); the anchor is ``pgbench`` TPC-B at the same client count on a
  throwaway database it initialises (``pgbench -i``) and drops;
* ImportProducts of generated rows (batched messages when the proto has
  ``ImportProductsRequest.products``, else one row per message) against
  ``psql \\copy`` of the same rows into the same table and indexes;
* memory: the server's RSS after a warm-up and after ``--memory-calls`` more
  calls of each scenario (growth in %).

Server CPU per call is the server process tree's CPU time (user + system, from
/proc) over the measured calls. The load generators share the machine's cores
with the server and PostgreSQL: the figures are a floor, the ratios are what
the run compares.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import psycopg
from grpc import aio
from harness import ADMIN_DSN, free_port, percentile, running_server, throwaway_database
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from inventory_client.v1 import product_pb2, product_pb2_grpc, stock_pb2, stock_pb2_grpc

PRODUCT = "/inventory.v1.ProductService/"
STOCK = "/inventory.v1.StockService/"
ECHO = "/bench.Echo/Echo"
WRITES = ("ReceiveStock", "ShipStock", "ReserveStock", "TransferStock", "CreateProduct")


@dataclass
class Figure:
    """One measured thing: a rate, latency percentiles, server CPU per call, RSS growth."""

    rate: float  # calls (or rows) per second
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_us: float | None = None
    rss_growth: float | None = None  # percent over the memory calls
    errors: int = 0


@dataclass
class Row:
    scenario: str
    unit: str
    figure: Figure
    anchor: str
    anchor_figure: Figure | None

    @property
    def ratio(self) -> float | None:
        if self.anchor_figure is None or not self.anchor_figure.rate:
            return None
        return self.figure.rate / self.anchor_figure.rate


# --- processes and /proc -----------------------------------------------------------------------------


def tree_pids(root: int) -> list[int]:
    """``root`` and all its descendants (the supervisor's workers under --workers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of the live process tree."""
    total = 0.0
    for pid in tree_pids(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def tree_rss_kib(root: int) -> int:
    total = 0
    for pid in tree_pids(root):
        try:
            found = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
        except OSError:
            continue
        total += int(found.group(1)) if found else 0
    return total


@contextmanager
def echo_server() -> Iterator[tuple[str, int]]:
    port = free_port()
    here = Path(__file__).resolve().parent
    process = subprocess.Popen([sys.executable, str(here / "echo_server.py"), str(port)])
    try:
        target = f"127.0.0.1:{port}"
        with grpc.insecure_channel(target) as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
        yield target, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- h2load ------------------------------------------------------------------------------------------


def grpc_frame(message: bytes) -> bytes:
    """A gRPC length-prefixed message (uncompressed), as h2load must send it."""
    return struct.pack(">BI", 0, len(message)) + message


def h2load(target: str, method: str, body: bytes, requests: int, args: argparse.Namespace) -> Figure:
    """``requests`` calls of ``method`` over args.connections x args.streams; latencies from its log."""
    with tempfile.TemporaryDirectory(prefix="inventory-bench-") as tmp:
        data, log = Path(tmp) / "body.bin", Path(tmp) / "requests.log"
        data.write_bytes(grpc_frame(body))
        out = subprocess.run(
            ["h2load", f"http://{target}{method}", "-n", str(requests), "-c", str(args.connections),
             "-m", str(args.streams), "-d", str(data), "-H", "content-type: application/grpc",
             "-H", "te: trailers", "--log-file", str(log)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        durations = sorted(int(line.split("\t")[2]) / 1000 for line in log.read_text().splitlines() if line)
    rate = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    succeeded = re.search(r"(\d+) succeeded", out)
    ok = int(succeeded.group(1)) if succeeded else 0
    return Figure(
        rate=float(rate.group(1)) if rate else 0.0,
        p50_ms=percentile(durations, 0.5) if durations else None,
        p99_ms=percentile(durations, 0.99) if durations else None,
        errors=requests - ok,
    )


def measured(pid: int, calls: int, run: Callable[[], Figure]) -> Figure:
    """``run`` with the server tree's CPU time per call added."""
    before = tree_cpu(pid)
    figure = run()
    figure.cpu_us = (tree_cpu(pid) - before) / max(1, calls) * 1e6
    return figure


def with_memory(pid: int, figure: Figure, calls: int, more: Callable[[int], object]) -> Figure:
    """RSS growth over ``calls`` further calls, the measured run having been the warm-up."""
    if calls > 0:
        before = tree_rss_kib(pid)
        more(calls)
        figure.rss_growth = (tree_rss_kib(pid) - before) / before * 100 if before else None
    return figure


# --- seeding and writes ------------------------------------------------------------------------------


@dataclass
class World:
    products: list[str]
    warehouses: tuple[str, str]
    user: str


def seed(dsn: str, products: int) -> World:
    """Products, two warehouses and one user, inserted directly (the API is measured, not seeding)."""
    with psycopg.connect(dsn) as conn:
        ids = [
            str(r[0])
            for r in conn.execute(
                "INSERT INTO products (sku, name) SELECT 'BENCH-' || g, 'Bench product ' || g "
                "FROM generate_series(1, %s) g RETURNING id",
                (products,),
            ).fetchall()
        ]
        warehouses = [
            str(r[0])
            for r in conn.execute(
                "INSERT INTO warehouses (code, name) VALUES ('BENCH-1', 'Bench 1'), ('BENCH-2', 'Bench 2') "
                "RETURNING id"
            ).fetchall()
        ]
        user = conn.execute(
            "INSERT INTO users (email, display_name, role, password_hash) "
            "VALUES ('bench@example.com', 'Bench', 'clerk', '!') RETURNING id"
        ).fetchone()
        conn.commit()
    if user is None or len(warehouses) != 2:
        raise RuntimeError("seeding returned no rows")
    return World(ids, (warehouses[0], warehouses[1]), str(user[0]))


def write_call(scenario: str, channel: aio.Channel, world: World) -> Callable[[int], Awaitable[object]]:
    """The call of a write scenario for index i: product i mod the catalogue, a fresh request_id."""
    products, stock = product_pb2_grpc.ProductServiceStub(channel), stock_pb2_grpc.StockServiceStub(channel)
    first, second = world.warehouses
    ids, user = world.products, world.user

    def call(i: int) -> Awaitable[object]:
        product, rid = ids[i % len(ids)], str(uuid.uuid4())
        if scenario == "ReceiveStock":  # 100 per call: the ship/reserve/transfer runs take 1 each
            receive = stock_pb2.ReceiveStockRequest(
                product_id=product, warehouse_id=first, quantity=100, request_id=rid, performed_by=user
            )
            return stock.ReceiveStock(receive, timeout=30)
        if scenario == "ShipStock":
            ship = stock_pb2.ShipStockRequest(
                product_id=product, warehouse_id=first, quantity=1, request_id=rid, performed_by=user
            )
            return stock.ShipStock(ship, timeout=30)
        if scenario == "ReserveStock":
            reserve = stock_pb2.ReserveStockRequest(
                product_id=product, warehouse_id=first, quantity=1, request_id=rid, performed_by=user
            )
            return stock.ReserveStock(reserve, timeout=30)
        if scenario == "TransferStock":
            transfer = stock_pb2.TransferStockRequest(
                product_id=product,
                from_warehouse_id=first,
                to_warehouse_id=second,
                quantity=1,
                request_id=rid,
                performed_by=user,
            )
            return stock.TransferStock(transfer, timeout=30)
        create = product_pb2.CreateProductRequest(
            product=product_pb2.Product(sku=f"C-{uuid.uuid4().hex[:20]}", name="bench create"), request_id=rid
        )
        return products.CreateProduct(create, timeout=30)

    return call


async def drive(call: Callable[[int], Awaitable[object]], total: int, concurrency: int) -> Figure:
    """``total`` calls, ``concurrency`` at a time; every call's latency."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))

    async def worker() -> None:
        nonlocal errors
        for i in counter:
            started = time.perf_counter()
            try:
                await call(i)
            except grpc.RpcError:
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return Figure(
        rate=(total - errors) / elapsed if elapsed else 0.0,
        p50_ms=percentile(latencies, 0.5),
        p99_ms=percentile(latencies, 0.99),
        errors=errors,
    )


async def writes(target: str, scenario: str, world: World, total: int, concurrency: int) -> Figure:
    async with aio.insecure_channel(target) as channel:
        return await drive(write_call(scenario, channel, world), total, concurrency)


# --- anchors -----------------------------------------------------------------------------------------


def psycopg_point_query(dsn: str, product_ids: list[str], total: int, connections: int) -> Figure:
    """The point query GetProduct runs, over raw psycopg (prepared), ``connections`` at once."""
    query = (
        "SELECT id, sku, name, description, unit_price_minor, currency_code, reorder_point, attributes, "
        "create_time, update_time, delete_time, version FROM products WHERE id = %s"
    )

    async def run() -> Figure:
        conns = [await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(connections)]
        try:
            pool: asyncio.Queue[psycopg.AsyncConnection[object]] = asyncio.Queue()
            for conn in conns:
                pool.put_nowait(conn)

            async def one(i: int) -> None:
                conn = await pool.get()
                try:
                    await (
                        await conn.execute(query, (product_ids[i % len(product_ids)],), prepare=True)
                    ).fetchone()
                finally:
                    pool.put_nowait(conn)

            return await drive(one, total, connections)
        finally:
            for conn in conns:
                await conn.close()

    return asyncio.run(run())


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(ADMIN_DSN)
    params["dbname"] = name
    try:
        yield make_conninfo("", **params)
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def pgbench(clients: int, seconds: float, scale: int) -> Figure:
    """TPC-B (pgbench's built-in script) at ``clients`` on a throwaway database it initialises."""
    with scratch_database("inv_bench_pgbench") as dsn:
        subprocess.run(["pgbench", "-i", "-q", "-s", str(scale), dsn], capture_output=True, check=True)
        with tempfile.TemporaryDirectory(prefix="inventory-pgbench-") as tmp:
            out = subprocess.run(
                ["pgbench", "-n", "-c", str(clients), "-j", "2", "-T", str(max(1, round(seconds))),
                 "-l", "--log-prefix", f"{tmp}/log", dsn],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            latencies = sorted(
                int(line.split()[2]) / 1000
                for path in Path(tmp).iterdir()
                for line in path.read_text().splitlines()
                if line
            )
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    return Figure(
        rate=float(tps.group(1)) if tps else 0.0,
        p50_ms=percentile(latencies, 0.5) if latencies else None,
        p99_ms=percentile(latencies, 0.99) if latencies else None,
    )


def import_rows(prefix: str, rows: int) -> list[product_pb2.Product]:
    return [
        product_pb2.Product(
            sku=f"{prefix}-{i:08d}",
            name=f"Imported product {i}",
            description="benchmark product with a description of ordinary length",
            unit_price_minor=i % 100_000,
            currency_code="EUR",
            reorder_point=i % 50,
        )
        for i in range(rows)
    ]


BATCHED = "products" in product_pb2.ImportProductsRequest.DESCRIPTOR.fields_by_name


def import_products(target: str, rows: list[product_pb2.Product], batch: int) -> Figure:
    """ImportProducts of ``rows`` (messages built before the clock starts)."""
    if BATCHED:
        messages = [
            product_pb2.ImportProductsRequest(products=rows[i : i + batch])  # type: ignore[call-arg,unused-ignore]
            for i in range(0, len(rows), batch)
        ]
    else:
        messages = [product_pb2.ImportProductsRequest(product=row) for row in rows]
    with grpc.insecure_channel(target) as channel:
        stub = product_pb2_grpc.ProductServiceStub(channel)
        started = time.perf_counter()
        reply = stub.ImportProducts(iter(messages), timeout=600)
        elapsed = time.perf_counter() - started
    return Figure(rate=len(rows) / elapsed, errors=int(reply.rejected_count))


def psql_copy(dsn: str, rows: list[product_pb2.Product]) -> Figure:
    r"""``psql \copy`` of the same rows (new skus) into the same table and indexes."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as f:
        writer = csv.writer(f)
        for row in rows:
            writer.writerow(["COPY" + row.sku, row.name, row.description, row.unit_price_minor,
                             row.currency_code, row.reorder_point])  # fmt: skip
        path = f.name
    try:
        command = (
            r"\copy products (sku, name, description, unit_price_minor, currency_code, reorder_point) "
            f"FROM '{path}' WITH (FORMAT csv)"
        )
        started = time.perf_counter()
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", dsn, "-c", command], check=True)
        elapsed = time.perf_counter() - started
    finally:
        os.unlink(path)
    return Figure(rate=len(rows) / elapsed)


# --- the run -----------------------------------------------------------------------------------------


def reads(
    args: argparse.Namespace, target: str, pid: int, world: World, cache: bool
) -> list[tuple[str, Figure]]:
    product, (warehouse, _) = world.products[0], world.warehouses
    bodies = [
        ("GetProduct, cache hit" if cache else "GetProduct, cache off", PRODUCT + "GetProduct",
         product_pb2.GetProductRequest(id=product).SerializeToString()),
    ]  # fmt: skip
    if cache:  # the other reads do not use the cache: measured once, on the default server
        bodies += [
            ("GetStockLevel", STOCK + "GetStockLevel",
             stock_pb2.GetStockLevelRequest(product_id=product, warehouse_id=warehouse).SerializeToString()),
            ("ListProducts, page of 50", PRODUCT + "ListProducts",
             product_pb2.ListProductsRequest(page_size=50).SerializeToString()),
        ]  # fmt: skip
    return [(name, read_scenario(args, target, pid, method, body)) for name, method, body in bodies]


def read_scenario(args: argparse.Namespace, target: str, pid: int, method: str, body: bytes) -> Figure:
    def run(calls: int) -> Figure:
        return h2load(target, method, body, calls, args)

    run(args.warmup)
    figure = measured(pid, args.reads, lambda: run(args.reads))
    return with_memory(pid, figure, args.memory_calls, run)


def write_scenario(args: argparse.Namespace, target: str, pid: int, world: World, scenario: str) -> Figure:
    def run(calls: int) -> Figure:
        return asyncio.run(writes(target, scenario, world, calls, args.concurrency))

    figure = measured(pid, args.writes, lambda: run(args.writes))
    return with_memory(pid, figure, args.memory_write_calls, run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts: finishes in under a minute")
    parser.add_argument("--reads", type=int, help="calls per read scenario (default 30000; quick 1000)")
    parser.add_argument("--writes", type=int, help="calls per write scenario (default 5000; quick 200)")
    parser.add_argument(
        "--rows", type=int, help="ImportProducts and \\copy rows (default 100000; quick 2000)"
    )
    parser.add_argument("--memory-calls", type=int,
                        help="calls after the measured run over which RSS growth is taken, per read "
                        "scenario (default 200000; quick 0 = not measured)")  # fmt: skip
    parser.add_argument("--memory-write-calls", type=int,
                        help="the same for each write scenario (default 20000; quick 0)")  # fmt: skip
    parser.add_argument("--warmup", type=int, help="calls before each measured read run (default 2000)")
    parser.add_argument("--connections", type=int, default=4, help="h2load connections")
    parser.add_argument("--streams", type=int, default=16, help="h2load concurrent streams per connection")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="concurrent write calls and pgbench clients"
    )
    parser.add_argument("--pgbench-seconds", type=float, help="pgbench run (default 20; quick 3)")
    parser.add_argument("--pgbench-scale", type=int, help="pgbench -i -s (default 32; quick 1)")
    parser.add_argument("--products", type=int, default=1000, help="seeded products")
    parser.add_argument("--batch", type=int, default=500, help="rows per ImportProducts message (if batched)")
    parser.add_argument("--workers", type=int, default=1, help="INVENTORY_WORKERS of the server under test")
    parser.add_argument("--pool-max-size", type=int, default=10, help="INVENTORY_POOL_MAX_SIZE")
    parser.add_argument(
        "--only", default="", help="comma-separated groups: reads,writes,import (default all)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "reads": (30_000, 1000), "writes": (5000, 200), "rows": (100_000, 2000),
        "memory_calls": (200_000, 0), "memory_write_calls": (20_000, 0), "warmup": (2000, 200),
        "pgbench_seconds": (20.0, 2.0), "pgbench_scale": (32, 1),
    }  # fmt: skip
    for name, (full, small) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    missing = [tool for tool in ("h2load", "pgbench", "psql") if shutil.which(tool) is None]
    if missing:
        print(f"not found: {', '.join(missing)}; on Debian: apt-get install nghttp2-client postgresql-client",
              file=sys.stderr)  # fmt: skip
        return 2
    groups = set(filter(None, args.only.split(","))) or {"reads", "writes", "import"}
    started = time.monotonic()
    rows = run(args, groups)
    print(table(args, rows, time.monotonic() - started))
    return 0 if all(r.figure.errors == 0 for r in rows) else 1


def run(args: argparse.Namespace, groups: set[str]) -> list[Row]:
    env = {"INVENTORY_POOL_MAX_SIZE": str(args.pool_max_size), "INVENTORY_WORKERS": str(args.workers)}
    result: list[Row] = []
    with throwaway_database() as dsn:
        world = seed(dsn, args.products)
        echo = None
        if "reads" in groups:
            with echo_server() as (echo_target, echo_pid):
                body = product_pb2.GetProductRequest(id=world.products[0]).SerializeToString()
                h2load(echo_target, ECHO, body, args.warmup, args)
                echo = measured(
                    echo_pid, args.reads, lambda: h2load(echo_target, ECHO, body, args.reads, args)
                )
            point = psycopg_point_query(dsn, world.products, args.reads, args.pool_max_size)
        with running_server(dsn, env) as server:
            if "reads" in groups:
                asyncio.run(writes(server.target, "ReceiveStock", world, 1, 1))  # a level for GetStockLevel
                for name, figure in reads(args, server.target, server.pid, world, cache=True):
                    result.append(Row(name, "req/s", figure, "grpc.aio echo", echo))
            if "writes" in groups:
                tpcb = pgbench(args.concurrency, args.pgbench_seconds, args.pgbench_scale)
                for scenario in WRITES:
                    figure = write_scenario(args, server.target, server.pid, world, scenario)
                    anchor = f"pgbench TPC-B -c {args.concurrency}"
                    result.append(
                        Row(f"{scenario}, {args.concurrency} concurrent", "req/s", figure, anchor, tpcb)
                    )
            if "import" in groups:
                generated = import_rows("IMP", args.rows)
                copied = psql_copy(dsn, generated)
                figure = measured(
                    server.pid, args.rows, lambda: import_products(server.target, generated, args.batch)
                )
                mode = f"{args.batch} rows/message" if BATCHED else "1 row/message"
                result.append(Row(f"ImportProducts ({mode})", "rows/s", figure, "psql \\copy", copied))
        if "reads" in groups:
            with running_server(dsn, {**env, "INVENTORY_CACHE_ENABLED": "false"}) as server:
                for name, figure in reads(args, server.target, server.pid, world, cache=False):
                    result.insert(1, Row(name, "req/s", figure, "grpc.aio echo", echo))
                    result.insert(2, Row(name, "req/s", figure, "raw psycopg, same query", point))
    return result


def _f(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(args: argparse.Namespace, rows: list[Row], seconds: float) -> str:
    lines = [
        "| scenario | rate | p50 ms | p99 ms | server CPU µs/call | RSS growth | anchor | anchor rate "
        "| anchor p50/p99 ms | ratio |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        f, a = r.figure, r.anchor_figure
        growth = "-" if f.rss_growth is None else f"{f.rss_growth:+.1f} %"
        errors = f" ({f.errors} errors)" if f.errors else ""
        anchor_rate = "-" if a is None else f"{a.rate:,.0f}"
        anchor_latency = "-" if a is None else f"{_f(a.p50_ms)} / {_f(a.p99_ms)}"
        if a is not None and a.cpu_us is not None:
            anchor_latency += f" ({a.cpu_us:,.0f} µs CPU/call)"
        lines.append(
            f"| {r.scenario} | {f.rate:,.0f} {r.unit}{errors} | {_f(f.p50_ms)} | {_f(f.p99_ms)} | "
            f"{_f(f.cpu_us, 0)} | {growth} | {r.anchor} | {anchor_rate} | {anchor_latency} | {_f(r.ratio)} |"
        )
    settings = (
        f"reads {args.reads} calls (h2load -c {args.connections} -m {args.streams}, warm-up {args.warmup}), "
        f"writes {args.writes} calls at {args.concurrency} concurrent, import {args.rows} rows, "
        f"memory over {args.memory_calls} read / {args.memory_write_calls} write calls, "
        f"pgbench -s {args.pgbench_scale} -T {args.pgbench_seconds:g}, workers {args.workers}, "
        f"pool max {args.pool_max_size}"
    )
    return "\n".join(
        [
            *lines,
            "",
            f"{settings}; {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"run took {seconds:.0f} s",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
