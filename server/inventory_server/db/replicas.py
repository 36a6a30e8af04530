"""Read replicas: a pool per streaming standby, their lag, their health, and which one serves a read.

``ReplicaSet`` owns one ``Database`` (pool) per DSN of DATABASE_READ_URL and a
probe task that, every ``INVENTORY_REPLICA_PROBE_INTERVAL``, asks the primary
for its WAL position (``pg_current_wal_lsn()``) and each replica, over its own
direct connection (not the pool: a dead replica must not wait on the pool's
reconnect backoff), for ``pg_is_in_recovery()``, ``pg_last_wal_replay_lsn()``
and the age of its last replayed transaction. From that each replica is:

- ``healthy``: answering and within INVENTORY_REPLICA_MAX_LAG; serves reads;
- ``lagging``: answering but further behind (or replay paused behind the
  primary for longer than the bound); skipped until it catches up;
- ``unreachable``: the probe or a read failed; skipped, probed again after a
  backoff that doubles up to 30 s, and healthy again once a probe succeeds
  (its pool is then renewed so it connects at once);
- ``not_standby``: answering but not in recovery (promoted?); skipped;
- ``starting``: not probed yet; skipped.

Time lag is how long the replica has been known to miss WAL: the age of the
oldest recent probe at which the primary had written something the replica
has not replayed yet (0 when it has replayed everything the primary had at
this probe). Not ``now() - pg_last_xact_replay_timestamp()``: on an idle
primary that grows although nothing is missing, and after a pause it counts
from the last replayed commit, however old, rather than from the first missed
one. Under steady writes a replica that keeps up within a probe interval
shows about 0. Byte lag is the primary's position minus the replica's replay
position at the probe.

``choose(required)`` picks a healthy replica that has replayed at least
``required`` (a caller's consistency token), round-robin; None sends the read
to the primary. Replay positions are those of the last probe: a replica that
has caught up since serves the token's reads from the next probe on, and until
then the primary does (correct, only less offloaded).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import psycopg

from inventory_server.config import MaxLag, Settings
from inventory_server.db.background import BackgroundTask
from inventory_server.db.database import Database
from inventory_server.dsn import mask_dsn

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0
STATES = ("starting", "healthy", "lagging", "unreachable", "not_standby")

_PROBE = (
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
    "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8"
)


def _position(text: str | None) -> int | None:
    if text is None:
        return None
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


@dataclass(frozen=True, slots=True)
class ReplicaFigure:
    """One read replica: its masked DSN, state, lag and the reads it served."""

    name: str
    state: str
    lag_seconds: float
    lag_bytes: int
    reads: int
    failures: int


@dataclass(frozen=True)
class ReplicaFigures:
    """The replicas, and replica-eligible reads the primary served."""

    replicas: list[ReplicaFigure]
    primary_reads: int

    @property
    def share(self) -> float:
        served = sum(r.reads for r in self.replicas)
        total = served + self.primary_reads
        return served / total if total else 0.0


@dataclass
class Replica:
    """One standby: its pool, what the last probe saw and how many reads it served."""

    name: str  # the masked DSN: no password
    dsn: str = field(repr=False)
    database: Database = field(repr=False)
    state: str = "starting"
    replay_position: int | None = None
    lag_seconds: float = 0.0
    lag_bytes: int = 0
    reads: int = 0
    failures: int = 0
    backoff: float = 0.0
    next_probe: float = 0.0
    probe_conn: psycopg.AsyncConnection[Any] | None = field(default=None, repr=False)

    @property
    def usable(self) -> bool:
        return self.state == "healthy"


class ReplicaSet:
    """The replicas of DATABASE_READ_URL (see the module docstring)."""

    def __init__(
        self,
        dsns: list[str],
        settings: Settings,
        primary: Database,
        max_lag: MaxLag,
        *,
        probe_interval: float = 1.0,
        probe_timeout: float = 1.0,
    ) -> None:
        self.settings = settings
        self.primary = primary
        self.max_lag = max_lag
        self.probe_interval = probe_interval
        self.probe_timeout = probe_timeout
        self.replicas = [Replica(mask_dsn(dsn), dsn, Database(dsn, settings)) for dsn in dsns]
        # reads that could have gone to a replica but went to the primary (none usable, token ahead)
        self.primary_reads = 0
        self._turn = itertools.count()
        # (monotonic time, primary WAL position) of recent probes, oldest first (for the time lag)
        self._history: deque[tuple[float, int]] = deque(maxlen=1024)
        self._task = BackgroundTask("replica-probe")

    async def start(self) -> None:
        """Open the pools (without waiting: readiness never depends on a replica) and start probing."""
        for replica in self.replicas:
            await replica.database.open(wait=False)
        await self.probe_all()
        self._task.start(self._probe_loop())

    async def stop(self) -> None:
        await self._task.stop()
        for replica in self.replicas:
            await _close(replica)
            await replica.database.close()

    def choose(self, required: int | None) -> Replica | None:
        """A healthy replica that has replayed ``required`` (if given), round-robin; None -> primary."""
        candidates = [
            r
            for r in self.replicas
            if r.usable
            and (required is None or (r.replay_position is not None and r.replay_position >= required))
        ]
        if not candidates:
            return None
        return candidates[next(self._turn) % len(candidates)]

    def served(self, replica: Replica) -> None:
        replica.reads += 1

    def served_by_primary(self) -> None:
        self.primary_reads += 1

    def failed(self, replica: Replica, error: BaseException) -> None:
        """A read on ``replica`` failed for the replica's sake: out of rotation until a probe succeeds."""
        replica.failures += 1
        if replica.state != "unreachable":
            log.warning(
                "replica %s failed a read (%s); reads go elsewhere", replica.name, type(error).__name__
            )
        self._unreachable(replica)

    def _unreachable(self, replica: Replica) -> None:
        replica.state = "unreachable"
        replica.backoff = min(MAX_BACKOFF, max(self.probe_interval, replica.backoff * 2))
        replica.next_probe = time.monotonic() + replica.backoff

    async def _probe_loop(self) -> None:
        while True:
            await asyncio.sleep(self.probe_interval)
            try:
                await self.probe_all()
            except Exception:  # never let the loop die: a replica must not break the service
                log.exception("probing the replicas failed")

    async def probe_all(self) -> None:
        primary_position = await self._primary_position()
        now = time.monotonic()
        if primary_position is not None:
            self._history.append((now, primary_position))
        due = [r for r in self.replicas if r.state != "unreachable" or r.next_probe <= now]
        await asyncio.gather(*(self._probe(r, primary_position) for r in due))

    async def _primary_position(self) -> int | None:
        try:
            async with asyncio.timeout(self.probe_timeout):
                conn = await self.primary.getconn(timeout=self.probe_timeout)
                try:
                    await conn.set_autocommit(True)
                    row = await (await conn.execute("SELECT pg_current_wal_lsn()::text")).fetchone()
                finally:
                    await self.primary.putconn(conn)
        except (psycopg.Error, TimeoutError, Exception):  # the health monitor reports the primary
            return None
        return None if row is None else _position(row[0])

    async def _probe(self, replica: Replica, primary_position: int | None) -> None:
        was = replica.state
        try:
            async with asyncio.timeout(self.probe_timeout):
                if replica.probe_conn is None or replica.probe_conn.closed:
                    replica.probe_conn = await psycopg.AsyncConnection.connect(
                        replica.dsn,
                        autocommit=True,
                        connect_timeout=max(1, int(self.probe_timeout)),
                        application_name=f"{self.settings.application_name}-replica-probe",
                    )
                row = await (await replica.probe_conn.execute(_PROBE)).fetchone()
        except (psycopg.Error, OSError, TimeoutError) as error:
            await _close(replica)
            if was != "unreachable":
                log.warning("replica %s does not answer (%s)", replica.name, type(error).__name__)
            self._unreachable(replica)
            return
        assert row is not None
        in_recovery, replay_text, replay_age = row
        replica.backoff = 0.0
        if not in_recovery:
            replica.state = "not_standby"
            replica.replay_position = None
        else:
            replica.replay_position = _position(replay_text)
            self._measure(replica, primary_position, replay_age, time.monotonic())
            replica.state = "healthy" if self._within_bound(replica) else "lagging"
        if was == "unreachable" and replica.state != "unreachable":
            await replica.database.recover()  # connect now, not when the pool's backoff says
        if was != replica.state and not (was == "starting" and replica.state == "healthy"):
            log.info("replica %s: %s -> %s", replica.name, was, replica.state)

    def _measure(
        self, replica: Replica, primary_position: int | None, replay_age: float | None, now: float
    ) -> None:
        replay = replica.replay_position
        if primary_position is None or replay is None:
            # No primary position to compare with: keep the last byte lag, trust the replay age.
            replica.lag_seconds = max(0.0, replay_age or 0.0)
            return
        replica.lag_bytes = max(0, primary_position - replay)
        # The oldest probe whose primary position the replica has not replayed: missing since then.
        missing_since = next((t for t, position in self._history if position > replay), None)
        replica.lag_seconds = 0.0 if missing_since is None else max(0.0, now - missing_since)

    def _within_bound(self, replica: Replica) -> bool:
        if self.max_lag.bytes is not None:
            return replica.lag_bytes <= self.max_lag.bytes
        return self.max_lag.seconds is None or replica.lag_seconds <= self.max_lag.seconds

    def stats_figures(self) -> ReplicaFigures:
        """Per replica: name, state, lag and reads served, and the primary's share; no I/O."""
        return ReplicaFigures(
            [
                ReplicaFigure(r.name, r.state, r.lag_seconds, r.lag_bytes, r.reads, r.failures)
                for r in self.replicas
            ],
            self.primary_reads,
        )


async def _close(replica: Replica) -> None:
    conn, replica.probe_conn = replica.probe_conn, None
    if conn is not None:
        with contextlib.suppress(Exception):
            await conn.close()
