"""A pooled service connection really carries idle_in_transaction_session_timeout."""

from __future__ import annotations

from typing import Any

import psycopg

from inventory_server.config import load


async def test_a_service_connection_shows_the_idle_in_transaction_timeout(migrated_dsn: str) -> None:
    kwargs: dict[str, Any] = dict(
        load(None, {"INVENTORY_IDLE_IN_TRANSACTION_TIMEOUT_MS": "1500"}).connection_kwargs()
    )
    async with await psycopg.AsyncConnection.connect(migrated_dsn, **kwargs) as conn:
        cursor = await conn.execute("SHOW idle_in_transaction_session_timeout")
        assert await cursor.fetchone() == ("1500ms",)
