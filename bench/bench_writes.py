"""Write paths against their database anchors, side by side in one run.

Scenarios (each on a throwaway migrated database and a fresh server process):

- ``receive``: ReceiveStock, ``--concurrency`` concurrent grpc.aio calls with unique request_ids;
- ``create``: CreateProduct, the same way;
- ``import``: ImportProducts rows/s (``--batch`` products per message when the server's proto
  has ``ImportProductsRequest.products``, else one per message) against psql ``\\copy`` of the
  same generated rows into the same ``products`` table;
- ``pgbench``: TPC-B (``pgbench -i`` on its own throwaway database, then
  ``pgbench -c <concurrency> -j 2 -T <seconds>``), the anchor of the two unary writes.

It prints one table with the ratios. Run it with another checkout's interpreter
to measure that checkout (the server is started with ``sys.executable``)::

    .venv/bin/python bench/bench_writes.py
    ../before/.venv/bin/python bench/bench_writes.py --label before

The machine is shared: compare runs made back to back, and ratios rather than absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import psycopg
from harness import ADMIN_DSN, cpu_seconds, running_server, throwaway_database
from load import aio_writes, seed
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from inventory_client.v1 import product_pb2, product_pb2_grpc

IMPORT_COLUMNS = (
    "sku",
    "name",
    "description",
    "unit_price_minor",
    "currency_code",
    "reorder_point",
    "attributes",
)


def generated_rows(prefix: str, count: int) -> list[tuple[str, str, str, int, str, int, dict[str, str]]]:
    return [
        (
            f"{prefix}-{i:08d}",
            f"Product {i}",
            "benchmark product with a description of ordinary length",
            i % 100_000,
            "EUR",
            i % 50,
            {"colour": "blue", "size": str(i % 7)},
        )
        for i in range(count)
    ]


def psql_copy(dsn: str, rows: list[tuple[str, str, str, int, str, int, dict[str, str]]]) -> float:
    """rows/s of ``psql -c '\\copy products (...) FROM file CSV'`` (psql started inside the clock)."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as handle:
        writer = csv.writer(handle)
        for row in rows:
            writer.writerow([*row[:6], json.dumps(row[6])])
        path = handle.name
    command = f"\\copy products ({', '.join(IMPORT_COLUMNS)}) FROM '{path}' WITH (FORMAT csv)"
    started = time.perf_counter()
    subprocess.run(["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", dsn, "-c", command], check=True)
    elapsed = time.perf_counter() - started
    Path(path).unlink()
    return len(rows) / elapsed


def import_messages(
    rows: list[tuple[str, str, str, int, str, int, dict[str, str]]], batch: int
) -> list[product_pb2.ImportProductsRequest]:
    products = [
        product_pb2.Product(
            sku=sku,
            name=name,
            description=description,
            unit_price_minor=price,
            currency_code=currency,
            reorder_point=reorder,
            attributes=attributes,
        )
        for sku, name, description, price, currency, reorder, attributes in rows
    ]
    batched = "products" in product_pb2.ImportProductsRequest.DESCRIPTOR.fields_by_name
    if not batched or batch <= 1:
        return [product_pb2.ImportProductsRequest(product=p) for p in products]
    return [
        product_pb2.ImportProductsRequest(products=products[i : i + batch])  # type: ignore[call-arg,unused-ignore]
        for i in range(0, len(products), batch)
    ]


def grpc_import(target: str, messages: list[product_pb2.ImportProductsRequest], rows: int) -> float:
    def stream() -> Iterator[product_pb2.ImportProductsRequest]:
        yield from messages

    with grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
        stub = product_pb2_grpc.ProductServiceStub(channel)
        started = time.perf_counter()
        reply = stub.ImportProducts(stream(), timeout=600)
        elapsed = time.perf_counter() - started
    if reply.inserted_count != rows:
        raise RuntimeError(f"import inserted {reply.inserted_count} of {rows} rows: {reply}")
    return rows / elapsed


def pgbench_tps(clients: int, seconds: int) -> float:
    name = f"inv_pgbench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(ADMIN_DSN)
    params["dbname"] = name
    dsn = make_conninfo("", **params)
    try:
        subprocess.run(["pgbench", "-i", "-q", dsn], check=True, capture_output=True)
        out = subprocess.run(
            ["pgbench", "-c", str(clients), "-j", "2", "-T", str(seconds), dsn],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if found is None:
        raise RuntimeError(f"no tps in pgbench output:\n{out}")
    return float(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--scenarios", default="pgbench,receive,create,import")
    parser.add_argument("--writes", type=int, default=3000, help="calls per unary write scenario")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500, help="products per ImportProducts message")
    parser.add_argument("--pool-max-size", default="10")
    args = parser.parse_args()
    wanted = set(args.scenarios.split(","))
    figures: dict[str, tuple[float, str]] = {}
    if "pgbench" in wanted:
        figures["pgbench TPC-B"] = (pgbench_tps(args.concurrency, args.pgbench_seconds), "tps")
    with throwaway_database() as dsn:
        product_ids, warehouse, user = seed(dsn, 1000)
        with running_server(dsn, {"INVENTORY_POOL_MAX_SIZE": args.pool_max_size}) as server:
            for scenario, name in (("receive", "ReceiveStock"), ("create", "CreateProduct")):
                if scenario not in wanted:
                    continue
                # a short warm-up (prepared statements, caches), then the measured run
                asyncio.run(
                    aio_writes(server.target, name, 200, args.concurrency, product_ids, warehouse, user)
                )
                cpu_before = cpu_seconds(server.pid)
                result = asyncio.run(
                    aio_writes(
                        server.target, name, args.writes, args.concurrency, product_ids, warehouse, user
                    )
                )
                cpu_ms = (cpu_seconds(server.pid) - cpu_before) * 1000 / max(result.requests, 1)
                note = (
                    f"req/s (p50 {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms, "
                    f"{cpu_ms:.2f} ms server CPU/call, {result.errors} errors)"
                )
                figures[name] = (result.rps, note)
            if "import" in wanted:
                rows = generated_rows(f"CP-{uuid.uuid4().hex[:6]}", args.import_rows)
                figures["psql \\copy"] = (psql_copy(dsn, rows), "rows/s")
                rows = generated_rows(f"IM-{uuid.uuid4().hex[:6]}", args.import_rows)
                messages = import_messages(rows, args.batch)
                per_message = args.import_rows / len(messages)
                figures["ImportProducts"] = (
                    grpc_import(server.target, messages, args.import_rows),
                    f"rows/s ({per_message:.0f} rows per message)",
                )
    anchors = {
        "ReceiveStock": "pgbench TPC-B",
        "CreateProduct": "pgbench TPC-B",
        "ImportProducts": "psql \\copy",
    }
    print(f"\n{args.label}: {args.concurrency} concurrent clients")
    for name, (value, unit) in figures.items():
        anchor = anchors.get(name)
        ratio = f"  = {value / figures[anchor][0]:.3f} x {anchor}" if anchor in figures else ""
        print(f"  {name:<16}{value:>10.0f} {unit}{ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
