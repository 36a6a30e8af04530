"""ReplicaSet's choice and lag arithmetic, and the transaction manager's fallback to the primary.

No database: replicas' probe results are set directly and their pools are fakes; the
real primary/standby behaviour is tests/e2e/test_read_replicas.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from inventory_server import context
from inventory_server.config import MaxLag, Settings
from inventory_server.db.background import BackgroundTask
from inventory_server.db.replicas import Replica, ReplicaSet
from inventory_server.db.transaction_manager import TransactionManager


class FakeDatabase:
    """Lends a sentinel "connection" or fails the way a dead replica's pool does."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.settings = Settings()
        self.fail = fail
        self.lent = 0

    async def getconn(self, timeout: float | None = None) -> Any:
        if self.fail is not None:
            raise self.fail
        self.lent += 1
        return FakeConnection(self)

    async def putconn(self, conn: Any) -> None:
        self.lent -= 1


class FakeConnection:
    closed = False
    broken = False

    def __init__(self, owner: FakeDatabase) -> None:
        self.owner = owner

        class Info:
            transaction_status = psycopg.pq.TransactionStatus.IDLE

        self.info = Info()

    async def set_autocommit(self, value: bool) -> None:
        pass


def replica_set(count: int = 2, max_lag: MaxLag | None = None) -> ReplicaSet:
    primary: Any = FakeDatabase()
    replicas = ReplicaSet.__new__(ReplicaSet)
    replicas.settings = Settings()
    replicas.primary = primary
    replicas.max_lag = max_lag or MaxLag(seconds=5.0)
    replicas.probe_interval = 1.0
    replicas.probe_timeout = 1.0
    replicas.replicas = [
        Replica(f"r{i}", f"postgresql://r{i}/x", FakeDatabase())  # type: ignore[arg-type]
        for i in range(count)
    ]
    replicas.primary_reads = 0
    import itertools
    from collections import deque

    replicas._turn = itertools.count()
    replicas._history = deque(maxlen=16)
    replicas._task = BackgroundTask("replica-probe")
    return replicas


def test_only_healthy_replicas_that_replayed_the_token_are_chosen() -> None:
    rs = replica_set()
    a, b = rs.replicas
    assert rs.choose(None) is None  # "starting": not probed yet
    a.state, a.replay_position = "healthy", 100
    b.state, b.replay_position = "lagging", 500
    assert {id(rs.choose(None)) for _ in range(4)} == {id(a)}
    assert rs.choose(100) is a
    assert rs.choose(101) is None  # a has not replayed the token; b is lagging -> primary
    b.state = "healthy"
    assert rs.choose(400) is b
    assert {id(rs.choose(None)) for _ in range(4)} == {id(a), id(b)}  # round-robin


def test_time_lag_counts_from_the_first_probe_that_saw_missing_wal() -> None:
    rs = replica_set()
    replica = rs.replicas[0]
    replica.replay_position = 100
    rs._history.extend([(10.0, 100), (11.0, 150), (12.0, 200)])
    rs._measure(replica, 200, replay_age=3600.0, now=12.0)
    assert replica.lag_bytes == 100
    assert replica.lag_seconds == pytest.approx(1.0)  # missing since the probe at 11.0
    replica.replay_position = 200
    rs._measure(replica, 200, replay_age=3600.0, now=12.0)
    assert (replica.lag_bytes, replica.lag_seconds) == (0, 0.0)  # idle primary: caught up is 0


def test_byte_bound_and_time_bound() -> None:
    rs = replica_set(max_lag=MaxLag(bytes=1000))
    replica = rs.replicas[0]
    replica.lag_bytes, replica.lag_seconds = 1000, 99.0
    assert rs._within_bound(replica)
    replica.lag_bytes = 1001
    assert not rs._within_bound(replica)
    rs.max_lag = MaxLag(seconds=2.0)
    replica.lag_seconds = 2.5
    assert not rs._within_bound(replica)


def test_a_failed_replica_leaves_rotation_with_doubling_backoff() -> None:
    rs = replica_set(count=1)
    replica = rs.replicas[0]
    replica.state, replica.replay_position = "healthy", 1
    rs.failed(replica, OSError())
    assert replica.state == "unreachable"
    first = replica.backoff
    rs.failed(replica, OSError())
    assert replica.backoff == 2 * first
    assert rs.choose(None) is None


@pytest.mark.parametrize(
    "failure", [psycopg.OperationalError("connection lost"), TimeoutError(), psycopg.InterfaceError()]
)
def test_a_read_that_fails_on_a_replica_is_served_by_the_primary(failure: BaseException) -> None:
    rs = replica_set(count=1)
    replica = rs.replicas[0]
    replica.state, replica.replay_position = "healthy", 1
    primary: Any = rs.primary
    manager = TransactionManager(primary, lambda conn: conn, replicas=rs)
    served_by: list[Any] = []

    async def work(conn: Any) -> str:
        served_by.append(conn.owner)
        if conn.owner is not primary:
            raise failure
        return "from the primary"

    assert asyncio.run(manager.read(work, replica_ok=True)) == "from the primary"
    assert served_by == [replica.database, primary]
    assert replica.state == "unreachable"
    assert replica.failures == 1
    assert rs.primary_reads == 1


def test_reads_without_the_opt_in_and_token_reads_ahead_of_every_replica_use_the_primary() -> None:
    rs = replica_set(count=1)
    replica = rs.replicas[0]
    replica.state, replica.replay_position = "healthy", 10
    primary: Any = rs.primary
    manager = TransactionManager(primary, lambda conn: conn, replicas=rs)

    async def owner(conn: Any) -> Any:
        return conn.owner

    async def scenario() -> list[Any]:
        seen = [await manager.read(owner), await manager.read(owner, replica_ok=True)]
        token = context.consistency.set(context.Consistency(required=11))
        try:
            seen.append(await manager.read(owner, replica_ok=True))
        finally:
            context.consistency.reset(token)
        return seen

    assert asyncio.run(scenario()) == [primary, replica.database, primary]
    assert (replica.reads, rs.primary_reads) == (1, 1)


def test_positions_round_trip_through_the_token_text() -> None:
    for position in (0, 1, 0x16B374D848, (0xFFFFFFFF << 32) | 0xFFFFFFFF):
        assert context.parse_position(context.format_position(position)) == position
    with pytest.raises(ValueError, match="WAL position"):
        context.parse_position("16/B374D848/1")
