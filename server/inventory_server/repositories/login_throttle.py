"""Failed-login counters shared by every replica (table ``login_throttle``), one statement each.

The window arithmetic happens in SQL with the database's clock, so replicas
with skewed clocks agree. Statements are fixed ``psycopg.sql`` texts: every
value is a bound parameter, the only identifiers are constants of this module.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql
from psycopg.rows import dict_row

from inventory_server.domain.login_throttle import ThrottleKey
from inventory_server.repositories.executor import StatementExecutor

_BLOCKED = sql.SQL(
    "SELECT coalesce(extract(epoch FROM max(blocked_until) - clock_timestamp()), 0)::float8 AS seconds"
    " FROM login_throttle WHERE key = ANY(%s) AND blocked_until > clock_timestamp()"
)

# A failure: start a new window when the old one is over, else count one more; reaching
# the key's limit blocks it for one window from now.
_FAILED = sql.SQL(
    "INSERT INTO login_throttle AS t (key, failures, window_start, blocked_until)"
    " VALUES (%(key)s, 1, clock_timestamp(),"
    "  CASE WHEN 1 >= %(limit)s THEN clock_timestamp() + %(window)s * interval '1 second' END)"
    " ON CONFLICT (key) DO UPDATE SET"
    "  failures = CASE WHEN t.window_start < clock_timestamp() - %(window)s * interval '1 second'"
    "   THEN 1 ELSE t.failures + 1 END,"
    "  window_start = CASE WHEN t.window_start < clock_timestamp() - %(window)s * interval '1 second'"
    "   THEN clock_timestamp() ELSE t.window_start END,"
    "  blocked_until = CASE WHEN"
    "   (CASE WHEN t.window_start < clock_timestamp() - %(window)s * interval '1 second'"
    "   THEN 1 ELSE t.failures + 1 END) >= %(limit)s"
    "   THEN clock_timestamp() + %(window)s * interval '1 second' ELSE t.blocked_until END"
)

_CLEARED = sql.SQL("DELETE FROM login_throttle WHERE key = %s")


class LoginThrottleRepository(StatementExecutor):
    """Counts failed logins per key; says how long a key is still blocked."""

    stats_prefix = "login_throttle"

    async def blocked_for(self, keys: Sequence[ThrottleKey]) -> float:
        """Seconds until every one of ``keys`` is unblocked; 0 when none is blocked."""
        with self.operation("blocked_for"):
            self.queries += 1
            async with self.conn.cursor(row_factory=dict_row) as cursor:
                await cursor.execute(_BLOCKED, ([k.key for k in keys],))
                row = await cursor.fetchone()
            return max(0.0, float(row["seconds"])) if row is not None else 0.0

    async def record_failure(self, keys: Sequence[ThrottleKey], window_seconds: float) -> None:
        """Count one failed attempt for each key (its own limit), within the current window."""
        with self.operation("record_failure"):
            async with self.conn.cursor() as cursor:
                # Sorted, so two concurrent failures lock the rows in the same order (no deadlock).
                for key in sorted(keys, key=lambda k: k.key):
                    self.queries += 1
                    await cursor.execute(
                        _FAILED, {"key": key.key, "limit": key.limit, "window": window_seconds}
                    )

    async def clear(self, key: ThrottleKey) -> None:
        """Forget the failures of ``key`` (an account after a successful login)."""
        with self.operation("clear"):
            self.queries += 1
            async with self.conn.cursor() as cursor:
                await cursor.execute(_CLEARED, (key.key,))
