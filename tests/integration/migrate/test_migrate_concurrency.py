"""Concurrent migrators, a migrator killed while holding the lock, and the lock timeout."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import pytest

from inventory_server.migrate.errors import EXIT_LOCK_TIMEOUT
from inventory_server.migrate.lock import MIGRATION_LOCK_KEY

from .migrate_helpers import CliResult, MigrationDir, history, query, spawn_cli

LEDGER = (
    "-- migrate:up\nCREATE TABLE runs (version int NOT NULL);\nINSERT INTO runs VALUES (1);\n"
    "SELECT pg_sleep(0.3);\n"
)


def lock_holders(dsn: str) -> list[tuple[object, ...]]:
    return query(
        dsn,
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND objid = (%s & 4294967295)::bigint::oid"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        (MIGRATION_LOCK_KEY,),
    )


@pytest.mark.slow
def test_five_migrators_at_once_apply_each_migration_exactly_once(
    empty_dsn: str, migration_dir: MigrationDir
) -> None:
    migration_dir.write("0001_runs.sql", LEDGER)
    migration_dir.write("0002_second.sql", "-- migrate:up\nINSERT INTO runs VALUES (2);\n")
    migration_dir.write(
        "0003_index.sql",
        "-- migrate:no-transaction\n-- migrate:up\nCREATE INDEX CONCURRENTLY runs_idx ON runs (version);\n"
        "INSERT INTO runs VALUES (3);\n",
    )
    migration_dir.write("0004_data.py", "def up(conn):\n    conn.execute('INSERT INTO runs VALUES (4)')\n")
    processes = [spawn_cli(empty_dsn, migration_dir.path, "migrate", "--lock-wait", "30") for _ in range(5)]
    outputs = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0] * 5, outputs
    stdout = "".join(out for out, _ in outputs)
    assert stdout.count("applying ") == 4
    assert stdout.count("schema is up to date") == 4
    assert query(empty_dsn, "SELECT version, count(*) FROM runs GROUP BY 1 ORDER BY 1") == [
        (1, 1),
        (2, 1),
        (3, 1),
        (4, 1),
    ]
    assert history(empty_dsn) == [(v, True, False) for v in (1, 2, 3, 4)]


@pytest.mark.slow
def test_a_migrator_killed_while_holding_the_lock_does_not_block_the_next_run(
    empty_dsn: str, migration_dir: MigrationDir, cli: Callable[..., CliResult]
) -> None:
    slow = migration_dir.write(
        "0001_slow.sql", "-- migrate:up\nCREATE TABLE slow (id int);\nSELECT pg_sleep(60);\n"
    )
    victim = spawn_cli(empty_dsn, migration_dir.path, "migrate")
    try:
        deadline = time.monotonic() + 20
        while not lock_holders(empty_dsn):
            assert victim.poll() is None, victim.communicate()
            assert time.monotonic() < deadline, "the victim never took the lock"
            time.sleep(0.05)
        time.sleep(0.3)  # let it get into its pg_sleep
    finally:
        victim.kill()
        victim.communicate(timeout=10)

    slow.write_text("-- migrate:up\nCREATE TABLE slow (id int);\n", encoding="utf-8")
    started = time.monotonic()
    result = cli(empty_dsn, migration_dir.path, "migrate", "--lock-wait", "15")
    assert result.code == 0, result.text
    assert time.monotonic() - started < 10  # the dead session's backend notices and releases the lock
    assert history(empty_dsn) == [(1, True, False)]


def test_lock_timeout_exits_with_its_own_code_after_about_the_timeout(
    empty_dsn: str, migration_dir: MigrationDir, cli: Callable[..., CliResult]
) -> None:
    migration_dir.write("0001_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n")
    with psycopg.connect(empty_dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        started = time.monotonic()
        result = cli(empty_dsn, migration_dir.path, "migrate", "--lock-wait", "1")
        elapsed = time.monotonic() - started
        assert result.code == EXIT_LOCK_TIMEOUT
        assert 1.0 <= elapsed < 3.0
        assert f"held by pid {holder.info.backend_pid}" in result.err
        assert query(empty_dsn, "SELECT to_regclass('a') IS NULL") == [(True,)]
    assert cli(empty_dsn, migration_dir.path, "migrate", "--lock-wait", "5").code == 0
