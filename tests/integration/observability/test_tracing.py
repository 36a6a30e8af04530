"""An in-process server traced into an in-memory exporter: server spans with SQL children.

The caller's W3C ``traceparent`` is continued: the server span belongs to the
caller's trace and names the caller's span as its parent; every statement the
call ran is a client span under the server span, with placeholders, never
values, in its text.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from inventory_client.v1 import warehouse_pb2, warehouse_pb2_grpc
from inventory_server.app import Application
from inventory_server.config import Settings

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
CALLER_SPAN = 0x00F067AA0BA902B7
TRACEPARENT = f"00-{TRACE_ID:032x}-{CALLER_SPAN:016x}-01"
CREATE = "inventory.v1.WarehouseService/CreateWarehouse"
GET = "inventory.v1.WarehouseService/GetWarehouse"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def traced(migrated_dsn: str) -> AsyncIterator[tuple[str, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = Settings(
        host="127.0.0.1", port=free_port(), health_check_interval=0.5, grace_period=1.0, cache_enabled=False
    )
    app = Application(settings, migrated_dsn, tracer_provider=provider)
    await app.start()
    try:
        yield f"127.0.0.1:{app.port}", exporter
    finally:
        await app.stop()


async def test_a_call_is_a_server_span_in_the_callers_trace_with_its_sql_as_children(
    traced: tuple[str, InMemorySpanExporter],
) -> None:
    target, exporter = traced
    code = f"WH-{uuid.uuid4().hex[:8]}"
    async with aio.insecure_channel(target) as channel:
        stub = warehouse_pb2_grpc.WarehouseServiceStub(channel)
        request = warehouse_pb2.CreateWarehouseRequest(
            warehouse=warehouse_pb2.Warehouse(code=code, name="Depot")
        )
        created = await stub.CreateWarehouse(request, metadata=(("traceparent", TRACEPARENT),))
        with pytest.raises(grpc.RpcError):  # no traceparent: a trace of its own
            await stub.GetWarehouse(warehouse_pb2.GetWarehouseRequest(id=str(uuid.uuid4())))
    assert created.warehouse.code == code
    spans = exporter.get_finished_spans()

    server = one(s for s in spans if s.name == CREATE)
    assert server.kind is SpanKind.SERVER
    assert server.context is not None
    assert server.context.trace_id == TRACE_ID
    assert server.parent is not None
    assert server.parent.span_id == CALLER_SPAN
    assert server.parent.is_remote
    assert server.attributes is not None
    assert dict(server.attributes) == {
        "rpc.system": "grpc",
        "rpc.service": "inventory.v1.WarehouseService",
        "rpc.method": "CreateWarehouse",
        "rpc.grpc.status_code": 0,
    }
    sql = [s for s in spans if s.parent is not None and s.parent.span_id == server.context.span_id]
    assert sql, [s.name for s in spans]
    assert all(s.kind is SpanKind.CLIENT and s.context is not None for s in sql)
    assert {s.context.trace_id for s in sql if s.context is not None} == {TRACE_ID}
    assert "INSERT warehouses" in [s.name for s in sql]
    for span in sql:
        assert span.attributes is not None
        assert span.attributes["db.system.name"] == "postgresql"
        text = str(span.attributes["db.query.text"])
        assert code not in text  # values are parameters, never in the statement text
    insert = one(s for s in sql if s.name == "INSERT warehouses")
    assert insert.attributes is not None
    assert '"warehouses"' in str(insert.attributes["db.query.text"])

    missing = one(s for s in spans if s.name == GET)
    assert missing.context is not None
    assert missing.context.trace_id != TRACE_ID
    assert missing.parent is None
    assert missing.attributes is not None
    assert missing.attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert missing.status.status_code is StatusCode.UNSET  # NOT_FOUND is the caller's, not a server error
    get_sql = [s for s in spans if s.parent is not None and s.parent.span_id == missing.context.span_id]
    assert [s.name for s in get_sql] == ["SELECT warehouses"]


def one(spans: object) -> ReadableSpan:
    found = list(spans)  # type: ignore[call-overload]
    assert len(found) == 1, [s.name for s in found]
    span: ReadableSpan = found[0]
    return span
