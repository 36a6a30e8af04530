"""The session-level advisory lock that serialises migrators on one database.

The lock belongs to the connection: if a migrator dies, PostgreSQL releases it
with the session, so the next run never needs a manual unlock. Waiting polls
``pg_try_advisory_lock`` (rather than blocking in ``pg_advisory_lock``) so that
the wait has a deadline and the waiter can say who holds the lock.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from inventory_server.migrate.errors import LockTimeout

# A fixed key ("inventory migrations"); advisory locks are per database, so
# migrators of different databases never wait for each other.
MIGRATION_LOCK_KEY = 0x696E_765F_6D69_6772  # "inv_migr" as bytes

# A bigint advisory key shows in pg_locks as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
_HOLDER_QUERY = """
SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local'),
       coalesce(a.backend_start::text, '')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = ((%(key)s >> 32) & 4294967295)::bigint::oid
  AND l.objid = (%(key)s & 4294967295)::bigint::oid
"""


def lock_holder(conn: psycopg.Connection[Any], key: int = MIGRATION_LOCK_KEY) -> str:
    """A short description of the session holding the lock, or '' when nobody (visible) does."""
    row = conn.execute(_HOLDER_QUERY, {"key": key}).fetchone()
    if row is None:
        return ""
    pid, application, client, started = row
    return f"pid {pid} (application {application!r}, client {client}, connected {started})"


@contextmanager
def migration_lock(
    conn: psycopg.Connection[Any],
    *,
    timeout: float,
    key: int = MIGRATION_LOCK_KEY,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the migration lock on ``conn`` (an autocommit connection) for the ``with`` block.

    Raises LockTimeout when the lock is still taken after ``timeout`` seconds;
    ``on_wait`` is called once, with the holder's description, when we have to wait.
    """
    deadline = time.monotonic() + max(timeout, 0.0)
    delay = 0.05
    announced = False
    while not _try_lock(conn, key):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            holder = lock_holder(conn, key)
            raise LockTimeout(
                f"timed out after {timeout:g}s waiting for the migration lock"
                + (f" held by {holder}" if holder else "")
            )
        if on_wait is not None and not announced:
            on_wait(lock_holder(conn, key))
            announced = True
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.5)
    try:
        yield
    finally:
        _unlock(conn, key)


def _try_lock(conn: psycopg.Connection[Any], key: int) -> bool:
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
    return bool(row and row[0])


def _unlock(conn: psycopg.Connection[Any], key: int) -> None:
    if conn.closed or conn.broken:
        return  # the session is gone, and its lock with it
    with contextlib.suppress(psycopg.Error):  # same: a dead session holds no locks
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
