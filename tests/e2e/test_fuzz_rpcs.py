"""Descriptor-driven fuzz of every inventory.v1 RPC against the real server (issue 9, "Proof").

For each method of each service in the inventory.v1 descriptors, hypothesis
draws request bytes from the input message's descriptor (``proto_fuzz``:
every field recursively, wrong wire types, int64 extremes, invalid UTF-8,
long and nested text, page tokens, etags, masks, filters) and sends them
as-is over a raw channel. Every call must:

- answer with a status other than INTERNAL or UNKNOWN (bad input is never a bug);
- leave the server process alive;
- when refused (any status but OK), leave every table exactly as it was:
  a content hash of each table is taken after every call and compared.

After each method's run the stock invariants hold (``check_invariants``).

Budget: ``INVENTORY_FUZZ_SECONDS`` (default 150) spread evenly over the
methods, each also capped at ``INVENTORY_FUZZ_MAX_EXAMPLES`` examples (default
400); the seed is ``INVENTORY_FUZZ_SEED`` (default 20260901) and printed,
so a failure replays with the same seed (no shrinking: the failing bytes are
in the assertion message). Development mode (no policy, loopback), so every
call reaches its handler.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import psycopg
import pytest
from google.protobuf.descriptor import MethodDescriptor
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from psycopg import sql

from inventory_client import InventoryClient
from inventory_client.v1 import (
    product_pb2,
    stats_pb2,
    stock_pb2,
    transaction_pb2,
    user_pb2,
    warehouse_pb2,
)

from .conftest import ServerProcess, start_server
from .proto_fuzz import Hints, all_field_names, message_bytes
from .stock_helpers import check_invariants, insert_user, insert_warehouse

pytestmark = pytest.mark.slow

FUZZ_SECONDS = float(os.environ.get("INVENTORY_FUZZ_SECONDS", "150"))
MAX_EXAMPLES = int(os.environ.get("INVENTORY_FUZZ_MAX_EXAMPLES", "400"))
SEED = int(os.environ.get("INVENTORY_FUZZ_SEED", "20260901"))
BATCH = 20  # examples per hypothesis run; see the loop at the end of the test
CALL_TIMEOUT = 10.0
WATCH_TIMEOUT = 0.5  # an accepted change stream stays open: read what comes in this long
BAD_CODES = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)
# The caller's clock ran out: the server may still finish the work, so "unchanged" is not owed.
UNCHECKED_CODES = (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED)

MODULES = (product_pb2, stock_pb2, transaction_pb2, user_pb2, warehouse_pb2, stats_pb2)
METHODS: list[MethodDescriptor] = [
    method
    for module in MODULES
    for service in module.DESCRIPTOR.services_by_name.values()
    for method in service.methods
]


def _identity(data: bytes) -> bytes:
    return data


@dataclass
class Target:
    server: ServerProcess
    dsn: str
    channel: grpc.Channel
    db: psycopg.Connection[Any]
    hints: Hints
    snapshot_query: sql.Composed

    def snapshot(self) -> dict[str, tuple[int, str]]:
        """Row count and an order-independent content hash of every table."""
        rows = self.db.execute(self.snapshot_query).fetchall()
        return {str(name): (int(count), str(digest)) for name, count, digest in rows}


# Tables whose job is to record refused calls (failed logins, denials): a refusal appends to them
# by design (docs/security.md, "Audit" and login protection), so they are not held unchanged.
RECORDS_REFUSALS = frozenset({"audit_events", "login_throttle"})


def _snapshot_query(db: psycopg.Connection[Any]) -> sql.Composed:
    tables = [
        str(row[0])
        for row in db.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
        if str(row[0]) not in RECORDS_REFUSALS
    ]
    # md5 of each row's text form, sorted and hashed again: exact content, independent of row order.
    per_table = [
        sql.SQL(
            "SELECT {name}, count(*), md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), ''))"
            " FROM {table} t"
        ).format(name=sql.Literal(table), table=sql.Identifier(table))
        for table in tables
    ]
    return sql.SQL(" UNION ALL ").join(per_table)


def _seed_world(client: InventoryClient, dsn: str) -> Hints:
    """A few rows of everything, so fuzzed ids, tokens and etags can hit real ones."""
    warehouses = [insert_warehouse(dsn) for _ in range(2)]
    user = insert_user(dsn)
    products = [
        client.products.CreateProduct(
            product_pb2.CreateProductRequest(
                product=product_pb2.Product(sku=f"FZ-{uuid.uuid4().hex[:8]}", name="Fuzz")
            )
        ).product.id
        for _ in range(3)
    ]
    for product in products:
        client.stock.ReceiveStock(
            stock_pb2.ReceiveStockRequest(
                product_id=product, warehouse_id=warehouses[0], quantity=50, performed_by=user
            )
        )
    reservation = client.stock.ReserveStock(
        stock_pb2.ReserveStockRequest(
            product_id=products[0], warehouse_id=warehouses[0], quantity=5, performed_by=user
        )
    ).transaction.id
    tokens = [
        client.products.ListProducts(product_pb2.ListProductsRequest(page_size=1)).next_page_token,
        client.stock.ListStockLevels(stock_pb2.ListStockLevelsRequest(page_size=1)).next_page_token,
        client.transactions.ListTransactions(
            transaction_pb2.ListTransactionsRequest(page_size=1)
        ).next_page_token,
        client.warehouses.ListWarehouses(warehouse_pb2.ListWarehousesRequest(page_size=1)).next_page_token,
    ]
    input_types = [method.input_type for method in METHODS]
    return Hints(
        ids=[*products, *warehouses, user, reservation],
        field_names=all_field_names(input_types),
        page_tokens=[token for token in tokens if token],
        extra={
            "product_id": products,
            "warehouse_id": warehouses,
            "from_warehouse_id": warehouses,
            "to_warehouse_id": warehouses,
            "performed_by": [user],
            "user_id": [user],
            "reservation_id": [reservation],
            "currency_code": ["EUR", "USD", "", "eur", "EURO"],
            "password": ["correct horse battery staple", "short", ""],
            "sku": ["FZ-1", "", " ", "a" * 65, "ü"],
            "email": ["a@example.com", "not-an-email", "@", "a@b"],
            "request_id": [str(uuid.uuid4()), "", "r" * 300],
        },
    )


@pytest.fixture(scope="module")
def target(
    database_factory: Callable[..., str], migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    dsn = database_factory(template=migrated_template)
    env = {
        "DATABASE_URL": dsn,
        "INVENTORY_GRACE_PERIOD": "5",
        "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
        # Nothing may change the tables between two calls but the calls themselves.
        "INVENTORY_RESERVATION_SWEEP_INTERVAL": "3600",
        "INVENTORY_MAINTENANCE_INTERVAL": "3600",
    }
    server = start_server(tmp_path_factory.mktemp("fuzz"), env)
    print(f"\nRPC fuzz: seed {SEED} (INVENTORY_FUZZ_SEED), {FUZZ_SECONDS:.0f} s over {len(METHODS)} methods")
    try:
        with InventoryClient(server.target, timeout=10) as client:
            hints = _seed_world(client, dsn)
        with grpc.insecure_channel(server.target) as channel, psycopg.connect(dsn, autocommit=True) as db:
            yield Target(server, dsn, channel, db, hints, _snapshot_query(db))
    finally:
        code = server.stop()
    assert code == 0, f"server exited with {code}:\n{server.log()[-4000:]}"


@dataclass
class _Progress:
    """What one method's fuzz carries from call to call: the last snapshot, the running batch's seed."""

    before: dict[str, tuple[int, str]]
    seed: int


def _call(target: Target, method: MethodDescriptor, payloads: list[bytes], run_seed: int) -> grpc.StatusCode:
    """Send ``payloads`` as the method's request(s); the status the call ended with."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    channel = target.channel
    try:
        if method.client_streaming:
            stream_call = channel.stream_unary(
                path, request_serializer=_identity, response_deserializer=_identity
            )
            stream_call(iter(payloads), timeout=CALL_TIMEOUT)
        elif method.server_streaming:
            responses = channel.unary_stream(
                path, request_serializer=_identity, response_deserializer=_identity
            )
            for _ in responses(payloads[0], timeout=WATCH_TIMEOUT):
                pass
        else:
            unary = channel.unary_unary(path, request_serializer=_identity, response_deserializer=_identity)
            unary(payloads[0], timeout=CALL_TIMEOUT)
    except grpc.RpcError as error:
        code, details = error.code(), error.details()
    else:
        return grpc.StatusCode.OK
    assert code not in BAD_CODES, (
        f"{path} answered {code.name}: {details!r}\n"
        f"request bytes (hex, first 400): {[p[:400].hex() for p in payloads]}\nseed {run_seed}"
    )
    return code


@pytest.mark.parametrize("method", METHODS, ids=[m.full_name.removeprefix("inventory.v1.") for m in METHODS])
def test_fuzzed_requests_never_break_the_server(target: Target, method: MethodDescriptor) -> None:
    budget_end = time.monotonic() + FUZZ_SECONDS / len(METHODS)
    request = message_bytes(method.input_type, target.hints)
    stream = (
        st.lists(request, max_size=3)
        if method.client_streaming
        else st.lists(request, min_size=1, max_size=1)
    )
    seen: dict[str, int] = {}
    state = _Progress(before=target.snapshot(), seed=SEED)

    @settings(
        max_examples=BATCH,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # no shrinking against a live server: the bytes are in the message
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        payloads = data.draw(stream, label="request messages")
        # The wall-clock guard skips the call but still draws, so hypothesis sees one consistent strategy.
        if seen and (time.monotonic() > budget_end or sum(seen.values()) >= MAX_EXAMPLES):
            return
        code = _call(target, method, payloads, state.seed)
        seen[code.name] = seen.get(code.name, 0) + 1
        assert target.server.process.poll() is None, f"server died:\n{target.server.log()[-4000:]}"
        after = target.snapshot()
        if code is not grpc.StatusCode.OK and code not in UNCHECKED_CODES:
            changed = {t for t in after if after[t] != state.before.get(t)}
            assert not changed, (
                f"{method.full_name} refused with {code.name} but changed {sorted(changed)};"
                f" request bytes (hex, first 400): {[p[:400].hex() for p in payloads]}; seed {state.seed}"
            )
        state.before = after

    # Batches of BATCH examples, each under its own seed (SEED + batch), until the budget is spent:
    # a failure names the seed of its batch, and the time guard overshoots by one call at most.
    for batch in range(MAX_EXAMPLES // BATCH + 1):
        if seen and (time.monotonic() > budget_end or sum(seen.values()) >= MAX_EXAMPLES):
            break
        state.seed = SEED + batch
        seed(state.seed)(fuzz)()
    print(f"{method.full_name}: {sum(seen.values())} calls {dict(sorted(seen.items()))}")
    assert sum(seen.values()) > 0
    check_invariants(target.dsn)
