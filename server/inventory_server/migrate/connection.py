"""Connecting to the database for a migration run, and printing DSNs safely."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from inventory_server.migrate.errors import DatabaseUnreachable

APPLICATION_NAME = "inventory-migrate"
DEFAULT_CONNECT_TIMEOUT = 10


def mask_dsn(dsn: str) -> str:
    """The DSN with any password replaced by ``***`` (safe to print or log).

    >>> mask_dsn("postgresql://app:s3cret@db:5432/inventory")
    'user=app password=*** dbname=inventory host=db port=5432'
    """
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparsable DSN>"
    if "password" in params:
        params["password"] = "***"  # noqa: S105 - a mask, not a secret
    return make_conninfo("", **params)


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
