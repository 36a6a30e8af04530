"""ReceiveStock cost: a loop of receipts through the server, and the same ledger write in bare SQL.

Used to price per-movement work added inside the database (e.g. the change
stream's commit-time stamping, migration 0011): run it before and after and
compare (``git stash`` the migration, or check out the commit before it)::

    .venv/bin/python bench/bench_receive.py
    .venv/bin/python bench/bench_receive.py --ab 10 --sql 0 --rpc 0   # stamping trigger on/off, interleaved
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import psycopg
from harness import running_server, throwaway_database
from run import seed, writes


def sql_receipts(
    dsn: str, product: str, warehouse: str, user: str, count: int, trigger_ms: list[float] | None = None
) -> list[float]:
    """Per-transaction milliseconds of what ReceiveStock writes: the level upsert and one ledger row.

    With ``trigger_ms``, also the mean time spent inside the stamping trigger
    (``pg_stat_user_functions``, which the load of other processes hardly skews).
    """
    timings: list[float] = []
    with psycopg.connect(dsn) as conn:
        if trigger_ms is not None:
            conn.execute("SET track_functions = 'pl'")
            conn.commit()
        for _ in range(count):
            started = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    "INSERT INTO stock_levels (product_id, warehouse_id, on_hand) VALUES (%s, %s, 1)"
                    " ON CONFLICT (warehouse_id, product_id) DO UPDATE"
                    " SET on_hand = stock_levels.on_hand + 1, update_time = now()",
                    (product, warehouse),
                )
                conn.execute(
                    "INSERT INTO stock_transactions (type, product_id, to_warehouse_id, quantity,"
                    " performed_by, request_id) VALUES ('receipt', %s, %s, 1, %s, %s)",
                    (product, warehouse, user, str(uuid.uuid4())),
                )
            timings.append((time.perf_counter() - started) * 1000)
        if trigger_ms is not None:
            conn.execute("SELECT pg_stat_force_next_flush()")
            conn.commit()
            row = conn.execute(
                "SELECT calls, self_time FROM pg_stat_user_functions WHERE funcname = %s",
                ("stock_transactions_stamp_position",),
            ).fetchone()
            if row and row[0]:
                trigger_ms.append(float(row[1]) / int(row[0]))
    return timings


TRIGGER = "stock_transactions_position_at_commit"


def stamping_ab(dsn: str, product: str, warehouse: str, user: str, rounds: int, per_round: int) -> None:
    """The same SQL receipts with the commit-time stamping trigger on and off, interleaved round by round.

    Interleaving cancels out the load other processes put on the machine meanwhile.
    """
    timings: dict[bool, list[float]] = {True: [], False: []}
    inside: list[float] = []
    with psycopg.connect(dsn, autocommit=True) as admin:
        for round_ in range(rounds):
            for enabled in (round_ % 2 == 0, round_ % 2 == 1):
                state = "ENABLE" if enabled else "DISABLE"
                admin.execute(f"ALTER TABLE stock_transactions {state} TRIGGER {TRIGGER}")  # bench-owned SQL
                timings[enabled] += sql_receipts(
                    dsn, product, warehouse, user, per_round, inside if enabled else None
                )
        admin.execute(f"ALTER TABLE stock_transactions ENABLE TRIGGER {TRIGGER}")
    for enabled in (False, True):
        values = timings[enabled]
        print(
            f"SQL receipt, stamping {'on ' if enabled else 'off'}: median {statistics.median(values):.3f} ms,"
            f" mean {statistics.mean(values):.3f} ms over {len(values)}"
        )
    if inside:
        print(f"time inside the stamping trigger per ledger row: {inside[-1]:.3f} ms (mean over all calls)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sql", type=int, default=2000, help="bare SQL receipts")
    parser.add_argument("--rpc", type=int, default=1000, help="ReceiveStock calls per concurrency level")
    parser.add_argument("--ab", type=int, default=0, help="rounds of stamping on/off SQL receipts (0: skip)")
    args = parser.parse_args()
    with throwaway_database() as dsn:
        world = seed(dsn, 16)
        products, warehouse, user = world.products, world.warehouses[0], world.user
        if args.ab:
            stamping_ab(dsn, products[1], warehouse, user, args.ab, 250)
        if args.sql:
            sql_ms = sql_receipts(dsn, products[0], warehouse, user, args.sql)
            print(
                f"SQL receipt transaction: mean {statistics.mean(sql_ms):.3f} ms, "
                f"median {statistics.median(sql_ms):.3f} ms over {len(sql_ms)}"
            )
        if not args.rpc:
            return 0
        with running_server(dsn) as server:
            for concurrency in (1, 16):
                result = asyncio.run(writes(server.target, "ReceiveStock", world, args.rpc, concurrency))
                print(
                    f"ReceiveStock x{args.rpc}, {concurrency} concurrent: {result.rate:.0f}/s, "
                    f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, errors {result.errors}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
