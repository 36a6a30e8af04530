"""ObservabilityInterceptor with fake calls: codes as the caller sees them, counts, spans, access fields."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from grpc import aio
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from inventory_client.v1 import stock_pb2
from inventory_server.api.observability import TRUNCATED, ObservabilityInterceptor
from inventory_server.domain.requests import MAX_REQUEST_ID_LENGTH
from inventory_server.observability import calls
from inventory_server.observability.logs import ACCESS_LOGGER
from inventory_server.observability.metrics import GrpcMetrics, new_registry

METHOD = "/inventory.v1.StockService/ReceiveStock"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
Behaviour = Callable[[Any, Any], Awaitable[Any]]


class FakeContext:
    def __init__(self) -> None:
        self._code: grpc.StatusCode | None = None

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def peer(self) -> str:
        return "ipv4:127.0.0.1:4242"

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("traceparent", TRACEPARENT),)

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        self._code = code
        raise aio.AbortError(details)


class Details:
    method = METHOD
    invocation_metadata = (("traceparent", TRACEPARENT),)


def aborting(code: grpc.StatusCode) -> Behaviour:
    async def behaviour(request: Any, ctx: Any) -> Any:
        calls.note_principal("svc-orders")  # as the authentication interceptor does, inside
        await ctx.abort(code, "no")

    return behaviour


async def answering(request: Any, ctx: Any) -> Any:
    return stock_pb2.ReceiveStockResponse()


async def cancelled(request: Any, ctx: Any) -> Any:
    raise asyncio.CancelledError


async def call(
    interceptor: ObservabilityInterceptor,
    behaviour: Callable[[Any, Any], Awaitable[Any]],
    request_id: str = "receive-7",
) -> None:
    handler = grpc.unary_unary_rpc_method_handler(behaviour)

    async def continuation(details: Any) -> Any:
        return handler

    details: Any = Details()
    wrapped: Any = await interceptor.intercept_service(continuation, details)
    request = stock_pb2.ReceiveStockRequest(request_id=request_id)
    with contextlib.suppress(aio.AbortError, asyncio.CancelledError):  # what the caller would get
        await wrapped.unary_unary(request, FakeContext())


async def test_codes_counts_and_access_fields(caplog: pytest.LogCaptureFixture) -> None:
    registry = new_registry()
    interceptor = ObservabilityInterceptor(GrpcMetrics(registry))
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        await call(interceptor, answering)
        await call(interceptor, aborting(grpc.StatusCode.NOT_FOUND))
        await call(interceptor, cancelled)
    labels = {
        "grpc_service": "inventory.v1.StockService",
        "grpc_method": "ReceiveStock",
        "grpc_type": "unary",
    }
    assert registry.get_sample_value("grpc_server_started_total", labels) == 3
    for code in ("OK", "NOT_FOUND", "CANCELLED"):
        assert registry.get_sample_value("grpc_server_handled_total", {**labels, "grpc_code": code}) == 1
    assert registry.get_sample_value("grpc_server_msg_sent_total", labels) == 1
    assert registry.get_sample_value("grpc_server_handling_seconds_count", labels) == 3
    fields = [record.access for record in caplog.records]  # type: ignore[attr-defined]
    assert [(f["code"], f["principal"]) for f in fields] == [
        ("OK", ""),
        ("NOT_FOUND", "svc-orders"),
        ("CANCELLED", ""),
    ]
    assert {f["trace_id"] for f in fields} == {TRACE_ID}  # tracing off: read from traceparent
    assert {f["request_id"] for f in fields} == {"receive-7"}
    assert {f["peer"] for f in fields} == {"ipv4:127.0.0.1:4242"}
    assert calls.current.get() is None  # the record does not outlive the call


async def test_span_status_is_error_only_for_server_side_codes() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    interceptor = ObservabilityInterceptor(tracer=provider.get_tracer("test"))
    await call(interceptor, aborting(grpc.StatusCode.NOT_FOUND))
    await call(interceptor, aborting(grpc.StatusCode.UNAVAILABLE))
    not_found, unavailable = exporter.get_finished_spans()
    assert not_found.status.status_code is StatusCode.UNSET
    assert unavailable.status.status_code is StatusCode.ERROR
    assert [s.attributes["rpc.grpc.status_code"] for s in (not_found, unavailable)] == [5, 14]  # type: ignore[index]
    assert {f"{s.context.trace_id:032x}" for s in (not_found, unavailable)} == {TRACE_ID}


async def test_a_long_client_request_id_is_logged_cut_to_the_domain_maximum_and_marked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client may send any length; the access line keeps MAX_REQUEST_ID_LENGTH characters and a mark."""
    long_id = "x" * 10_000
    exact = "y" * MAX_REQUEST_ID_LENGTH

    async def noting(request: Any, ctx: Any) -> Any:
        calls.note_request_id(request.request_id)  # as api.interceptors does with the parsed request
        return stock_pb2.ReceiveStockResponse()

    interceptor = ObservabilityInterceptor()
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        await call(interceptor, answering, request_id=long_id)  # read from the request by the observer
        await call(interceptor, noting, request_id=long_id)  # noted on the call record
        await call(interceptor, noting, request_id=exact)  # at the maximum: logged whole, unmarked
    logged = [record.access["request_id"] for record in caplog.records]  # type: ignore[attr-defined]
    cut = "x" * MAX_REQUEST_ID_LENGTH + TRUNCATED
    assert logged == [cut, cut, exact]
