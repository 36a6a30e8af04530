"""The health monitor reports NOT_SERVING, with the reason, while the schema is not this build's."""

from __future__ import annotations

import psycopg

from inventory_server.app import schema_expectation
from inventory_server.config import Settings
from inventory_server.db.health import HealthMonitor
from inventory_server.migrate import migrate_database


def monitor_for(dsn: str, reports: list[bool]) -> HealthMonitor:
    async def report(serving: bool) -> None:
        reports.append(serving)

    return HealthMonitor(dsn, report, schema=schema_expectation(Settings()), failure_threshold=3)


async def test_an_empty_database_is_not_serving_until_migrated_then_serving(empty_dsn: str) -> None:
    reports: list[bool] = []
    monitor = monitor_for(empty_dsn, reports)
    try:
        assert not await monitor.check_once()
        assert not monitor.figures.serving
        assert "no migration history" in monitor.figures.reason
        assert monitor.figures.consecutive_failures == 0  # the database answers; its schema is wrong
        migrate_database(empty_dsn)
        assert await monitor.check_once()
        assert monitor.figures.serving
        assert monitor.figures.reason == ""
    finally:
        await monitor.stop()


async def test_pending_failed_and_unknown_migrations_are_not_serving(migrated_dsn: str) -> None:
    monitor = monitor_for(migrated_dsn, [])
    latest = max(schema_expectation(Settings()).versions)
    try:
        assert await monitor.check_once()
        statements = [
            ("DELETE FROM schema_migrations WHERE version = %s", [latest], "pending"),
            ("UPDATE schema_migrations SET success = false WHERE version = %s", [latest], "failed"),
            (
                "INSERT INTO schema_migrations (version, description, kind, checksum, execution_ms,"
                " applied_by, success) VALUES (%s, 'future', 'sql', 'x', 1, 'test', true)",
                [latest + 1000],
                "does not know",
            ),
        ]
        with psycopg.connect(migrated_dsn, autocommit=True) as conn:
            conn.execute("CREATE TEMP TABLE saved AS SELECT * FROM schema_migrations")
            for statement, params, expected in statements:
                conn.execute(statement, params)
                assert not await monitor.check_once()
                assert expected in monitor.figures.reason
                conn.execute("DELETE FROM schema_migrations")
                conn.execute("INSERT INTO schema_migrations OVERRIDING SYSTEM VALUE SELECT * FROM saved")
                assert await monitor.check_once(), monitor.figures.reason
    finally:
        await monitor.stop()
