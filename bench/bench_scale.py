"""Scale benchmark: List calls over a large product table stay fast because pages are keyset, not OFFSET.

Creates a throwaway database with ``--products`` rows (default 1,000,000,
inserted directly with generate_series), starts a server, then:

1. pages through the whole table with ``order_by=sku`` and page_size 1000,
   timing every page: with keyset pagination the last pages cost what the
   first ones do (OFFSET would grow linearly);
2. times a few typical filtered Lists (exact sku, a price range with an
   order, a case-insensitive substring that has to scan);
3. prints the server's CPU time and peak RSS.
"""

from __future__ import annotations

import argparse
import statistics
import time

import grpc
import psycopg
from harness import cpu_seconds, memory_kib, percentile, running_server, throwaway_database

from inventory_client.v1 import product_pb2, product_pb2_grpc


def seed(dsn: str, count: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO products (sku, name, unit_price_minor, currency_code) "
            "SELECT 'S-' || lpad(g::text, 7, '0'), 'Product ' || g, g %% 100000, 'EUR' "
            "FROM generate_series(1, %s) g",
            [count],
        )
        conn.execute("VACUUM ANALYZE products")
    return time.perf_counter() - started


def page_through(stub: product_pb2_grpc.ProductServiceStub, page_size: int) -> tuple[int, list[float]]:
    """(rows seen, latency of each page in ms)."""
    token, rows, latencies = "", 0, []
    while True:
        started = time.perf_counter()
        reply = stub.ListProducts(
            product_pb2.ListProductsRequest(page_size=page_size, order_by="sku", page_token=token), timeout=30
        )
        latencies.append((time.perf_counter() - started) * 1000)
        rows += len(reply.products)
        token = reply.next_page_token
        if not token:
            return rows, latencies


def timed(
    stub: product_pb2_grpc.ProductServiceStub, request: product_pb2.ListProductsRequest, n: int
) -> float:
    """Median latency in ms of ``n`` identical List calls."""
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        stub.ListProducts(request, timeout=30)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    with throwaway_database() as dsn:
        seconds = seed(dsn, args.products)
        print(f"seeded {args.products:,} products in {seconds:.1f} s")
        with running_server(dsn) as server, grpc.insecure_channel(server.target) as channel:
            stub = product_pb2_grpc.ProductServiceStub(channel)
            started = time.perf_counter()
            rows, latencies = page_through(stub, args.page_size)
            total = time.perf_counter() - started
            first, last = latencies[:10], latencies[-11:-1]  # the very last page is short
            print(
                f"paged {rows:,} rows in {len(latencies)} pages of {args.page_size} in {total:.1f} s "
                f"({rows / total:,.0f} rows/s)"
            )
            ordered = sorted(latencies)
            print(
                f"  page latency ms: first 10 median {statistics.median(first):.1f}, "
                f"last 10 median {statistics.median(last):.1f}, "
                f"p50 {percentile(ordered, 0.5):.1f}, p99 {percentile(ordered, 0.99):.1f}"
            )
            middle = f"S-{args.products // 2:07d}"
            cases = {
                f'sku = "{middle}"': product_pb2.ListProductsRequest(filter=f'sku = "{middle}"'),
                "price range, order_by unit_price_minor desc, 50": product_pb2.ListProductsRequest(
                    filter="unit_price_minor >= 500 AND unit_price_minor < 510",
                    order_by="unit_price_minor desc",
                    page_size=50,
                ),
                'name:"99999" (substring: scans)': product_pb2.ListProductsRequest(filter='name:"99999"'),
            }
            for label, request in cases.items():
                print(f"  {label}: median {timed(stub, request, 5):.1f} ms")
            _, peak = memory_kib(server.pid)
            print(f"server: {cpu_seconds(server.pid):.1f} s CPU, peak RSS {peak / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
