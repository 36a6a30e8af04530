"""WatchStockChanges end to end: order, filter, heartbeats, resume, limits, retention, shutdown.

The 32-writer test with a cancelled, a filtered and a restarted watcher is in
``test_stock_watch_concurrency.py``.
"""

from __future__ import annotations

import threading
import time
import uuid

import grpc
import psycopg
import pytest

from inventory_client import (
    FailedPreconditionError,
    InvalidArgumentError,
    InventoryClient,
    ResourceExhaustedError,
)
from inventory_client.v1 import stock_pb2, stock_pb2_grpc

from .conftest import ServerProcess
from .stock_helpers import World, create_product, make_world
from .watch_helpers import Collected, collect, ledger_in_commit_order


@pytest.fixture
def server_env() -> dict[str, str]:
    return {
        "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
        "INVENTORY_GRACE_PERIOD": "5",
        "INVENTORY_WATCH_HEARTBEAT_INTERVAL": "0.3",
        "INVENTORY_WATCH_MAX_STREAMS": "3",
        "INVENTORY_WATCH_BUFFER_SIZE": "8",
        "INVENTORY_WATCH_SLOW_CONSUMER_SECONDS": "0.5",
    }


@pytest.fixture
def world(client: InventoryClient, migrated_dsn: str) -> World:
    return make_world(client, migrated_dsn, reorder_point=5)


def start_watcher(
    client: InventoryClient, until: int, **options: object
) -> tuple[Collected, threading.Thread]:
    """A thread collecting until it has ``until`` changes; returns once the stream has begun."""
    out = Collected()
    thread = threading.Thread(
        target=collect, args=(client, out), kwargs={"until": lambda c: len(c.changes) >= until, **options}
    )
    thread.start()
    assert out.started.wait(20)
    return out, thread


def test_rows_arrive_in_commit_order_with_the_levels_they_left(world: World) -> None:
    out, thread = start_watcher(world.client, 3)
    first = world.receive(10)
    reserved = world.reserve(4)
    world.transfer(3, world.warehouses[0], world.warehouses[1])
    thread.join(30)
    assert out.error is None
    receipt, reservation, transfer = out.changes
    assert receipt.transaction == first.transaction
    assert reservation.transaction == reserved.transaction
    assert [(lv.on_hand, lv.reserved) for lv in receipt.stock_levels] == [(10, 0)]
    assert [(lv.on_hand, lv.reserved, lv.available) for lv in reservation.stock_levels] == [(10, 4, 6)]
    by_warehouse = {lv.warehouse_id: (lv.on_hand, lv.reserved) for lv in transfer.stock_levels}
    assert by_warehouse == {world.warehouses[0]: (7, 4), world.warehouses[1]: (3, 0)}
    assert len({c.resume_token for c in out.changes}) == 3


def test_the_first_message_is_a_heartbeat_and_idle_streams_keep_sending_them(world: World) -> None:
    out, thread = start_watcher(world.client, 1, timeout=60)
    while out.heartbeats < 4 and thread.is_alive():
        time.sleep(0.05)
    tokens_before = out.last_token
    assert out.heartbeats >= 4
    assert not out.changes
    world.receive(1)
    thread.join(30)
    assert len(out.changes) == 1
    assert out.last_token != tokens_before


def test_a_filter_selects_product_warehouse_and_type(world: World) -> None:
    other = create_product(world.client)
    filtered = f'product_id = "{world.product}" AND type = SHIPMENT'
    out, thread = start_watcher(world.client, 2, filter=filtered)
    world.receive(5)
    world.receive(5, product_id=other)
    shipped = world.ship(2)
    world.ship(1, product_id=other)
    shipped_again = world.ship(1)
    thread.join(30)
    assert [c.transaction.id for c in out.changes] == [shipped.transaction.id, shipped_again.transaction.id]


def test_bad_filter_and_bad_token_are_invalid_argument(world: World) -> None:
    with pytest.raises(InvalidArgumentError) as bad_filter:
        next(iter(world.client.watch_stock_changes(filter="quantity > 3")))
    assert bad_filter.value.field_violations[0].field == "filter"
    with pytest.raises(InvalidArgumentError) as bad_token:
        next(iter(world.client.watch_stock_changes(resume_token="not-a-token")))
    assert bad_token.value.field_violations[0].field == "resume_token"


def test_resuming_from_a_token_continues_right_after_its_row(world: World) -> None:
    out, thread = start_watcher(world.client, 2)
    rows = [world.receive(1).transaction.id for _ in range(4)]
    thread.join(30)
    assert out.ids() == rows[:2]
    resumed, thread = start_watcher(world.client, 2, resume_token=out.changes[1].resume_token)
    thread.join(30)
    assert resumed.ids() == rows[2:]


def test_a_transaction_held_open_is_delivered_when_it_commits_late(world: World) -> None:
    """The classic trap: this row is inserted (and gets its create_time) first, but commits last."""
    late_product = create_product(world.client)
    with psycopg.connect(world.dsn) as held:
        held_id = held.execute(
            "INSERT INTO stock_transactions (type, product_id, to_warehouse_id, quantity, performed_by,"
            " request_id) VALUES ('receipt', %s, %s, 1, %s, %s) RETURNING id::text",
            (late_product, world.warehouse, world.user, str(uuid.uuid4())),
        ).fetchone()
        assert held_id is not None
        out, thread = start_watcher(world.client, 4)
        early = [world.receive(1).transaction.id for _ in range(3)]
        while len(out.changes) < 3 and thread.is_alive():  # the watcher is past the held row's insert
            time.sleep(0.05)
        held.commit()
    thread.join(30)
    assert out.ids() == [*early, held_id[0]]
    assert [row[0] for row in ledger_in_commit_order(world.dsn)][-4:] == [*early, held_id[0]]


def test_more_watchers_than_the_cap_are_resource_exhausted(world: World) -> None:
    threads = [start_watcher(world.client, 1) for _ in range(3)]
    with pytest.raises(ResourceExhaustedError) as refused:
        next(iter(world.client.watch_stock_changes()))
    assert refused.value.reason == "WATCH_STREAMS_EXHAUSTED"
    world.receive(1)
    for _, thread in threads:
        thread.join(30)
    out, thread = start_watcher(world.client, 1)  # slots come back when streams end
    world.receive(1)
    thread.join(30)
    assert out.error is None
    assert len(out.changes) == 1


def test_a_consumer_that_never_reads_is_ended_and_resumes_without_a_gap(
    world: World, server: ServerProcess
) -> None:
    """Server memory per stream is its buffer (8 here): a stuck consumer is cut off, not buffered for.

    BDP probing is off on this channel so that the client's own HTTP/2 window
    stays small and the server's writes really wait for the consumer.
    """
    rows = 5000
    with grpc.insecure_channel(server.target, options=[("grpc.http2.bdp_probe", 0)]) as channel:
        call = stock_pb2_grpc.StockServiceStub(channel).WatchStockChanges(
            stock_pb2.WatchStockChangesRequest()
        )
        first = next(iter(call))  # the stream has started; from now on the consumer does not read
        with psycopg.connect(world.dsn) as conn:  # one quick transaction of many rows (~300 bytes each)
            conn.execute(
                "INSERT INTO stock_transactions (type, product_id, to_warehouse_id, quantity, performed_by,"
                " request_id, reference) SELECT 'receipt', %s, %s, 1, %s, 'bulk-' || g, repeat('x', 200)"
                " FROM generate_series(1, %s) AS g",
                (world.product, world.warehouse, world.user, rows),
            )
        written = [row[0] for row in ledger_in_commit_order(world.dsn)]
        deadline = time.monotonic() + 60
        while "consumer fell" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        received: list[stock_pb2.WatchStockChangesResponse] = []
        with pytest.raises(grpc.RpcError) as ended:
            received.extend(call)
    assert ended.value.code() == grpc.StatusCode.ABORTED
    got = [r.transaction.id for r in received if r.HasField("transaction")]
    assert got == written[: len(got)]
    assert len(got) < rows
    token = received[-1].resume_token if received else first.resume_token
    out, thread = start_watcher(world.client, rows - len(got), resume_token=token, timeout=120)
    thread.join(150)
    assert got + out.ids() == written


def test_expired_positions_are_failed_precondition_naming_the_oldest(world: World) -> None:
    out, thread = start_watcher(world.client, 2)
    world.receive(1)
    world.receive(1)
    thread.join(30)
    stale = out.changes[0].resume_token
    with psycopg.connect(world.dsn) as conn:  # what the purger does past the retention
        conn.execute(
            "WITH gone AS (DELETE FROM stock_changes WHERE position <= (SELECT min(position) + 1"
            " FROM stock_changes) RETURNING position)"
            " UPDATE stock_change_retention SET purged_through = (SELECT max(position) FROM gone)"
        )
    with pytest.raises(FailedPreconditionError) as expired:
        next(iter(world.client.watch_stock_changes(resume_token=stale)))
    assert expired.value.reason == "WATCH_POSITION_EXPIRED"
    oldest = expired.value.metadata["oldest_resume_token"]
    late = world.receive(1).transaction.id
    resumed, thread = start_watcher(world.client, 1, resume_token=oldest)
    thread.join(30)
    assert resumed.ids() == [late]


def test_sigterm_ends_streams_unavailable_after_their_last_token(world: World, server: ServerProcess) -> None:
    out, thread = start_watcher(world.client, 10, max_reconnects=0)
    row = world.receive(1).transaction.id
    while not out.changes and thread.is_alive():
        time.sleep(0.05)
    assert server.stop() == 0
    thread.join(30)
    assert out.ids() == [row]
    assert out.error is not None
    assert out.error.code == grpc.StatusCode.UNAVAILABLE
    assert out.error.reason == "SERVER_SHUTTING_DOWN"
    assert out.error.metadata["resume_token"] == out.last_token
