"""`bench/run.py --quick` still works: it runs every scenario and anchor and prints every row.

Only that it works: tiny counts and no figure is judged (no timed assertions).
Needs h2load (nghttp2-client), pgbench and psql, which scripts/test.sh installs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

BENCH = Path(__file__).resolve().parents[2] / "bench" / "run.py"

ROWS = (
    "| GetProduct, cache hit |",
    "| GetProduct, cache off |",
    "| GetStockLevel |",
    "| ListProducts, page of 50 |",
    "| ReceiveStock, 32 concurrent |",
    "| ShipStock, 32 concurrent |",
    "| ReserveStock, 32 concurrent |",
    "| TransferStock, 32 concurrent |",
    "| CreateProduct, 32 concurrent |",
    "| ImportProducts (",
)
ANCHORS = ("grpc.aio echo", "raw psycopg, same query", "pgbench TPC-B -c 32", "psql \\copy")


def test_the_quick_benchmark_prints_every_scenario_with_its_anchor(migrated_dsn: str) -> None:
    small = ["--reads", "100", "--warmup", "20", "--writes", "20", "--rows", "100", "--products", "50",
             "--pgbench-seconds", "1", "--memory-calls", "50", "--memory-write-calls", "10"]  # fmt: skip
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", *small],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=BENCH.parent,
        # the bench makes its own databases on the server the tests use
        env={
            **os.environ,
            "BENCH_ADMIN_DSN": make_conninfo("", **{**conninfo_to_dict(migrated_dsn), "dbname": "postgres"}),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    for row in ROWS:
        assert any(line.startswith(row) for line in table), f"{row} missing:\n{result.stdout}"
    for anchor in ANCHORS:
        assert any(f"| {anchor} |" in line for line in table), f"{anchor} missing:\n{result.stdout}"
    # every measured row has a ratio against its anchor, and a memory figure (--memory-calls)
    for line in table[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[-1] != "-", line
        if not cells[0].startswith("ImportProducts"):
            assert cells[5].endswith("%"), line
