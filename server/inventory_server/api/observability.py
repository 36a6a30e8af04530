"""The observability interceptor: metrics, the server span and the access line of every call.

It is the outermost interceptor, so it sees every call the way the caller
does, including those the inner interceptors refuse (bad requests,
authentication): its status code is the one the caller gets. It observes the
unary, client-streaming and server-streaming methods of every service (health
checks included, logged at DEBUG and not traced); bidirectional streams
(reflection) pass through unobserved.

Per call, with everything on, it adds: a few counter bumps on label children
bound once per method (``observability.metrics.MethodMetrics``), a span
continuing the caller's W3C ``traceparent``, and one access line. What is off
costs nothing but an ``is None`` test: no metrics registry, no tracer (the
trace id of the access line is then read straight from ``traceparent``), or an
access logger above INFO. bench/bench_observability.py measures the cost.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, cast

import grpc
from grpc import aio
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, format_trace_id

from inventory_server.domain.requests import MAX_REQUEST_ID_LENGTH
from inventory_server.observability import calls
from inventory_server.observability.logs import ACCESS_LOGGER
from inventory_server.observability.metrics import (
    CLIENT_STREAM,
    SERVER_STREAM,
    UNARY,
    GrpcMetrics,
    MethodMetrics,
)

access_log = logging.getLogger(ACCESS_LOGGER)

Behaviour = Callable[[Any, aio.ServicerContext[Any, Any]], Awaitable[Any]]
Metadata = Sequence[tuple[str, str | bytes]]

# Server span status ERROR for these codes only (OpenTelemetry's RPC semantic conventions).
SERVER_ERRORS = frozenset(
    {"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"}
)
TRUNCATED = "…"  # ends a request_id cut to MAX_REQUEST_ID_LENGTH in the access line
HEALTH_PREFIX = "/grpc.health.v1."


class ObservabilityInterceptor(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Counts, traces and logs each call; ``metrics``/``tracer`` None = that part off."""

    def __init__(self, metrics: GrpcMetrics | None = None, tracer: Tracer | None = None) -> None:
        self.metrics = metrics
        self.tracer = tracer

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        # The wrapped handler depends on the method only (the call's metadata is read from its
        # context), so api.handler_cache.HandlerCache can build it once per method.
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._observe(method, UNARY, handler.unary_unary),  # type: ignore[arg-type]
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._observe(method, CLIENT_STREAM, handler.stream_unary),  # type: ignore[arg-type]
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        # Only handlers that write with context.write (and return None) can be wrapped by a coroutine.
        if handler.unary_stream is not None and not inspect.isasyncgenfunction(handler.unary_stream):
            return grpc.unary_stream_rpc_method_handler(
                self._observe(method, SERVER_STREAM, handler.unary_stream),  # type: ignore[arg-type]
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _observe(self, method: str, grpc_type: str, behaviour: Behaviour) -> Behaviour:
        figures = None if self.metrics is None else self.metrics.method(method, grpc_type)
        # Probes every few seconds would bury the traces that matter: health is counted, not traced.
        tracer = None if method.startswith(HEALTH_PREFIX) else self.tracer
        level = logging.DEBUG if method.startswith(HEALTH_PREFIX) else logging.INFO

        async def observed(request: Any, ctx: aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            if figures is not None:
                figures.started.inc()
                if grpc_type == CLIENT_STREAM:
                    request = _counting(request, figures)
                else:
                    figures.received.inc()
                if grpc_type == SERVER_STREAM:
                    ctx = _CountingContext(ctx, figures)  # type: ignore[assignment]
            record = calls.CallRecord()
            record_token = calls.current.set(record)
            span = attached = None
            if tracer is not None:
                span, attached = _start_span(tracer, method, _metadata(ctx))
            code = "OK"
            try:
                response = await behaviour(request, ctx)
                code = _code_name(ctx, "OK")
                return response
            except aio.AbortError:
                code = _code_name(ctx, "UNKNOWN")
                raise
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except BaseException:
                code = "UNKNOWN"
                raise
            finally:
                elapsed = time.perf_counter() - started
                calls.current.reset(record_token)
                if figures is not None:
                    figures.handled(code).inc()
                    figures.handling.observe(elapsed)
                    if code == "OK" and grpc_type != SERVER_STREAM:
                        figures.sent.inc()
                # The access line only when it is written: no metadata walk, no trace id otherwise.
                if span is not None:
                    trace_id = _end_span(span, attached, code)
                    if access_log.isEnabledFor(level):
                        _log_access(method, level, code, elapsed, record, request, ctx, trace_id)
                elif access_log.isEnabledFor(level):
                    trace_id = traceparent_trace_id(_metadata(ctx))
                    _log_access(method, level, code, elapsed, record, request, ctx, trace_id)

        return observed


def _start_span(tracer: Tracer, method: str, metadata: Metadata) -> tuple[trace.Span, object]:
    """A server span, child of the caller's ``traceparent`` (or a new trace), made current."""
    carrier = {key: value for key, value in metadata if isinstance(value, str)}
    parent = propagate.extract(carrier)
    service, _, name = method.lstrip("/").rpartition("/")
    span = tracer.start_span(
        method.lstrip("/"),
        context=parent,
        kind=SpanKind.SERVER,
        attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": name},
    )
    return span, otel_context.attach(trace.set_span_in_context(span, parent))


def _end_span(span: trace.Span, attached: Any, code: str) -> str:
    status = getattr(grpc.StatusCode, code, grpc.StatusCode.UNKNOWN)
    span.set_attribute("rpc.grpc.status_code", status.value[0])
    if code in SERVER_ERRORS:
        span.set_status(Status(StatusCode.ERROR, code))
    otel_context.detach(attached)
    span.end()
    span_context = span.get_span_context()
    return format_trace_id(span_context.trace_id) if span_context.is_valid else ""


def traceparent_trace_id(metadata: Metadata) -> str:
    """The trace id of a well-formed W3C ``traceparent`` header, else "" (for the access line).

    >>> traceparent_trace_id([("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")])
    '0af7651916cd43dd8448eb211c80319c'
    >>> traceparent_trace_id([("traceparent", "00-00000000000000000000000000000000-b7ad6b7169203331-01")])
    ''
    """
    for key, value in metadata:
        if key == "traceparent" and isinstance(value, str):
            parts = value.strip().split("-")
            if len(parts) >= 4 and len(parts[1]) == 32 and parts[1] != "0" * 32:
                try:
                    int(parts[1], 16)
                except ValueError:
                    return ""
                return parts[1].lower()
    return ""


def _log_access(
    method: str,
    level: int,
    code: str,
    elapsed: float,
    record: calls.CallRecord,
    request: Any,
    ctx: aio.ServicerContext[Any, Any],
    trace_id: str,
) -> None:
    duration_ms = round(elapsed * 1000, 3)
    fields = {
        "method": method,
        "code": code,
        "duration_ms": duration_ms,
        "principal": record.principal,
        "request_id": _capped(record.request_id) or _request_id(request, _metadata(ctx)),
        "trace_id": trace_id,
        "peer": ctx.peer(),
    }
    # makeRecord + handle: what Logger.log does, minus the stack walk for a caller nobody reads.
    args = (method, code, duration_ms)
    line = access_log.makeRecord(
        ACCESS_LOGGER, level, __file__, 0, "%s %s %.1fms", args, None, extra={"access": fields}
    )
    access_log.handle(line)


def _request_id(request: Any, metadata: Metadata) -> str:
    """The AIP-155 ``request_id`` of a write request, else an ``x-request-id`` header, else ""."""
    value = getattr(request, "request_id", "")
    if not isinstance(value, str) or not value:
        value = next((v for k, v in metadata if k == "x-request-id" and isinstance(v, str)), "")
    return _capped(value)


def _capped(value: str) -> str:
    """``value`` as the access line shows it: a client may send any length (the write itself is
    refused past ``MAX_REQUEST_ID_LENGTH``, but the call is still logged), so at most that many
    characters are kept, and a cut one ends in ``TRUNCATED`` so that it is not taken for the id."""
    if len(value) <= MAX_REQUEST_ID_LENGTH:
        return value
    return value[:MAX_REQUEST_ID_LENGTH] + TRUNCATED


async def _counting(requests: AsyncIterator[Any], figures: MethodMetrics) -> AsyncIterator[Any]:
    """The request stream, counting each message as the handler takes it."""
    async for message in requests:
        figures.received.inc()
        yield message


class _CountingContext:
    """The servicer context of a server stream, counting each message the handler writes."""

    def __init__(self, ctx: aio.ServicerContext[Any, Any], figures: MethodMetrics) -> None:
        self._ctx = ctx
        self._figures = figures

    async def write(self, message: Any) -> None:
        await self._ctx.write(message)
        self._figures.sent.inc()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


def _metadata(ctx: aio.ServicerContext[Any, Any]) -> Metadata:
    """The call's metadata as (key, value) pairs (read only when a span or the access line needs it)."""
    return cast(Metadata, ctx.invocation_metadata() or ())


def _code_name(ctx: aio.ServicerContext[Any, Any], default: str) -> str:
    """The status code the call ended with, as far as its context says."""
    code = ctx.code()
    return code.name if isinstance(code, grpc.StatusCode) else default
