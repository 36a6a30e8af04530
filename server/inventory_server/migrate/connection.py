"""Connecting to the database for a migration run; DSNs in messages are masked (``inventory_server.dsn``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from inventory_server.dsn import mask_dsn
from inventory_server.migrate.errors import DatabaseUnreachable

APPLICATION_NAME = "inventory-migrate"
DEFAULT_CONNECT_TIMEOUT = 10


def connect(
    dsn: str, *, wait_seconds: float = 0.0, on_retry: Callable[[str], None] | None = None
) -> psycopg.Connection[Any]:
    """An autocommit connection, retrying for up to ``wait_seconds`` while the database does not answer.

    Raises DatabaseUnreachable (with the DSN masked) when no attempt succeeds.
    """
    params: dict[str, Any] = {"autocommit": True}
    parsed = conninfo_to_dict(dsn)
    if "connect_timeout" not in parsed:
        params["connect_timeout"] = DEFAULT_CONNECT_TIMEOUT
    if "application_name" not in parsed:
        params["application_name"] = APPLICATION_NAME
    deadline = time.monotonic() + max(wait_seconds, 0.0)
    delay = 0.2
    while True:
        try:
            return psycopg.connect(dsn, **params)
        except psycopg.OperationalError as exc:
            error = _one_line(str(exc))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DatabaseUnreachable(f"cannot connect to {mask_dsn(dsn)}: {error}") from None
            if on_retry is not None:
                on_retry(f"database not reachable yet ({error}); retrying for {remaining:.0f}s more")
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 2.0)


def _one_line(message: str) -> str:
    """libpq's multi-line connection error folded into one line."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return "; ".join(lines) or "unknown error"
