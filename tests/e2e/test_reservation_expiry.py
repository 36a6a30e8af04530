"""Reservations that expire: ttl and expire_time, release by the service, refusals, ListReservations."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from google.protobuf.duration_pb2 import Duration

from inventory_client import FailedPreconditionError, InvalidArgumentError, InventoryClient
from inventory_client.v1 import stock_pb2 as pb
from inventory_client.v1 import transaction_pb2

from .conftest import ServerProcess, start_server
from .stock_helpers import World, make_world
from .watch_helpers import Collected, collect


@pytest.fixture
def server_env() -> dict[str, str]:
    return {
        "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
        "INVENTORY_GRACE_PERIOD": "5",
        "INVENTORY_RESERVATION_SWEEP_INTERVAL": "0.2",
        "INVENTORY_WATCH_HEARTBEAT_INTERVAL": "0.5",
    }


@pytest.fixture
def world(client: InventoryClient, migrated_dsn: str) -> World:
    world = make_world(client, migrated_dsn)
    world.receive(100)
    return world


def ttl(seconds: float) -> Duration:
    duration = Duration()
    duration.FromMilliseconds(int(seconds * 1000))
    return duration


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


def open_count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM open_reservations").fetchone()
    return int(row[0]) if row else 0


def test_a_reservation_carries_its_expire_time_default_one_hour(world: World) -> None:
    default = world.reserve(1).transaction
    assert default.expire_time.ToSeconds() - default.create_time.ToSeconds() in range(3595, 3605)
    ten_minutes = world.reserve(1, ttl=ttl(600)).transaction
    assert ten_minutes.expire_time.ToSeconds() - ten_minutes.create_time.ToSeconds() in range(595, 605)
    assert not world.receive(1).transaction.HasField("expire_time")


@pytest.mark.parametrize("seconds", [0, -5, 31 * 86400])
def test_a_ttl_that_is_not_positive_or_above_30_days_is_invalid(world: World, seconds: int) -> None:
    with pytest.raises(InvalidArgumentError) as refused:
        world.reserve(1, ttl=ttl(seconds))
    assert [v.field for v in refused.value.field_violations] == ["ttl"]


def test_a_ttl_beyond_any_date_is_invalid_not_internal(world: World) -> None:
    """Found by tests/e2e/test_fuzz_rpcs.py: such a Duration overflowed while converting -> INTERNAL."""
    for seconds in (2**63 - 1, -(2**63), 10**15):  # one server for all three: each start costs seconds
        with pytest.raises(InvalidArgumentError) as refused:
            world.reserve(1, ttl=Duration(seconds=seconds))
        assert [v.field for v in refused.value.field_violations] == ["ttl"]


def test_an_expired_reservation_is_released_by_the_service(world: World) -> None:
    seen = Collected()
    watcher = threading.Thread(
        target=collect, args=(world.client, seen), kwargs={"until": lambda c: len(c.changes) >= 2}
    )
    watcher.start()
    assert seen.started.wait(20)
    reservation = world.reserve(7, ttl=ttl(0.3)).transaction
    assert world.level().reserved == 7
    wait_for(lambda: world.level().reserved == 0)
    watcher.join(30)
    release = seen.changes[1].transaction
    assert seen.changes[0].transaction.id == reservation.id
    assert release.type == transaction_pb2.TRANSACTION_TYPE_RELEASE
    assert (release.reservation_id, release.quantity, release.performed_by) == (reservation.id, 7, world.user)
    assert (release.reason, release.caller) == ("reservation expired", "inventory-server")
    assert world.level().on_hand == 100
    for consume in (
        lambda: world.ship(1, reservation_id=reservation.id),
        lambda: world.release(reservation.id),
    ):
        with pytest.raises(FailedPreconditionError) as expired:
            consume()
        assert expired.value.reason == "RESERVATION_EXPIRED"


def test_a_partly_shipped_reservation_releases_only_what_is_left(world: World) -> None:
    reservation = world.reserve(5, ttl=ttl(1.0)).transaction
    world.ship(2, reservation_id=reservation.id)
    wait_for(lambda: open_count(world.dsn) == 0)
    level = world.level()
    assert (level.on_hand, level.reserved) == (98, 0)
    with psycopg.connect(world.dsn) as conn:
        released = conn.execute(
            "SELECT quantity FROM stock_transactions WHERE type = 'release' AND reservation_id = %s",
            (reservation.id,),
        ).fetchall()
    assert released == [(3,)]


def test_two_replicas_release_each_expiry_exactly_once(
    world: World, migrated_dsn: str, tmp_path: Path, server_env: dict[str, str]
) -> None:
    second: ServerProcess = start_server(tmp_path, {"DATABASE_URL": migrated_dsn, **server_env})
    try:
        ids = [world.reserve(1, ttl=ttl(0.5)).transaction.id for _ in range(30)]
        wait_for(lambda: open_count(world.dsn) == 0, timeout=40)
    finally:
        assert second.stop() == 0
    with psycopg.connect(world.dsn) as conn:
        releases = conn.execute(
            "SELECT reservation_id::text, count(*) FROM stock_transactions WHERE type = 'release'"
            " GROUP BY reservation_id"
        ).fetchall()
    assert dict(releases) == dict.fromkeys(ids, 1)
    assert world.level().reserved == 0


def test_list_reservations_filters_pages_and_drops_consumed_ones(world: World) -> None:
    first = world.reserve(2, reference="order-1", ttl=ttl(600)).transaction
    second = world.reserve(3, world.warehouses[0], reference="order-2", ttl=ttl(1200)).transaction
    consumed = world.reserve(1, reference="order-3").transaction
    world.release(consumed.id)
    world.ship(1, reservation_id=second.id)

    def listed(**fields: object) -> list[pb.Reservation]:
        found: list[pb.Reservation] = []
        token = ""
        while True:
            reply = world.client.stock.ListReservations(
                pb.ListReservationsRequest(page_size=1, page_token=token, **fields)  # type: ignore[arg-type]
            )
            found += reply.reservations
            token = reply.next_page_token
            if not token:
                return found

    everything = listed()
    assert [r.id for r in everything] == [first.id, second.id]
    assert [(r.quantity, r.remaining, r.reference) for r in everything] == [
        (2, 2, "order-1"),
        (3, 2, "order-2"),
    ]
    assert [r.id for r in listed(filter='reference = "order-2"')] == [second.id]
    assert [r.id for r in listed(order_by="expire_time desc")] == [second.id, first.id]
    cutoff = everything[0].expire_time.ToJsonString()
    assert [r.id for r in listed(filter=f'expire_time > "{cutoff}"')] == [second.id]
    assert [
        r.id for r in listed(filter=f'product_id = "{world.product}" AND warehouse_id = "{world.warehouse}"')
    ] == [
        first.id,
        second.id,
    ]
    with pytest.raises(InvalidArgumentError):
        world.client.stock.ListReservations(pb.ListReservationsRequest(filter="quantity > 1"))
