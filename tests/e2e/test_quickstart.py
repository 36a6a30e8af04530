"""The README's Python quickstart, extracted from README.md and run as a user would run it
(a separate interpreter, the installed client package) against a real server: it must print
what the README says it prints, and running it a second time must change nothing (every
write carries a request_id)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from tests.readme_blocks import DEFAULT_TARGET, expected_python_output, python_block

from .conftest import ServerProcess


def run_quickstart(server: ServerProcess, tmp_path: Path) -> str:
    code = python_block()
    assert code.count(DEFAULT_TARGET) == 1
    script = tmp_path / "quickstart.py"
    script.write_text(code.replace(DEFAULT_TARGET, server.target))
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr + server.log()
    return result.stdout


def ledger_rows(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM stock_transactions").fetchone()
    assert row is not None
    return int(row[0])


def test_python_quickstart_prints_what_the_readme_says_and_is_safe_to_rerun(
    server: ServerProcess, tmp_path: Path, migrated_dsn: str
) -> None:
    first = run_quickstart(server, tmp_path)
    assert first == expected_python_output()
    rows = ledger_rows(migrated_dsn)
    assert rows == 3
    second = run_quickstart(server, tmp_path)
    assert second == first
    assert ledger_rows(migrated_dsn) == rows
