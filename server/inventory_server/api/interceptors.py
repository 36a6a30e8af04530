"""Server interceptor: per-call context, error mapping and method figures.

Every inventory.v1 call passes through here:
- the caller's deadline goes into ``inventory_server.context``, so the
  database work is bounded by it;
- the caller's identity was set by ``api.auth.AuthInterceptor``, which runs
  before this one (and counts the calls it refuses itself);
- a ``DomainError`` becomes its status with rich details (``api.errors``);
  any other exception becomes INTERNAL with a generic message (the traceback
  goes to the log, never to the caller);
- the request bytes are parsed here, so malformed ones are INVALID_ARGUMENT
  (and counted) instead of grpc's UNKNOWN with the exception's text;
- the call's code and latency are counted;
- read-your-writes: the caller's consistency token (metadata
  ``x-inventory-consistency-token``) goes into ``context.consistency`` (reads
  then go to a replica only if it has replayed that far), and the WAL position
  of the call's commit, if it committed, goes back to the caller in the
  trailing metadata under the same key (docs/scaling.md, "Read replicas").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from grpc import aio

from inventory_server import context
from inventory_server.api.errors import status_code_for, to_status
from inventory_server.api.metrics import MethodStats
from inventory_server.domain.errors import DomainError, InvalidArgument
from inventory_server.observability import calls

log = logging.getLogger(__name__)

Behaviour = Callable[[Any, aio.ServicerContext[Any, Any]], Awaitable[Any]]


class CallInterceptor(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps the unary-unary, stream-unary and unary-stream handlers of the services under ``prefix``.

    A unary-stream handler is wrapped too when it writes with ``context.write``
    and returns None (WatchStockChanges): its errors are mapped like any other.
    """

    def __init__(self, stats: MethodStats, prefix: str = "/inventory.v1.") -> None:
        self.stats = stats
        self.prefix = prefix

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith(self.prefix):
            return handler
        # Requests arrive as bytes (no request_deserializer) and are parsed inside the wrapped
        # behaviour: grpc's own deserialization failure is UNKNOWN (INTERNAL for a stream) with
        # the exception's text and never reaches this interceptor, so it would go uncounted.
        parse = handler.request_deserializer
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap(method, _parsing_request(parse, handler.unary_unary)),  # type: ignore[arg-type]
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap(method, _parsing_request(parse, handler.unary_stream)),  # type: ignore[arg-type]
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap(method, _parsing_stream(parse, handler.stream_unary)),  # type: ignore[arg-type]
                response_serializer=handler.response_serializer,
            )
        return handler

    def _wrap(self, method: str, behaviour: Behaviour) -> Behaviour:
        stats = self.stats

        async def wrapped(request: Any, ctx: aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            remaining = ctx.time_remaining()
            deadline_token = context.deadline.set(None if remaining is None else time.monotonic() + remaining)
            method_token = context.method.set(method)
            consistency = context.Consistency()
            consistency_token = context.consistency.set(consistency)
            code = "OK"
            try:
                consistency.required = _required_position(ctx)
                result = await behaviour(request, ctx)
                if consistency.committed is not None:
                    ctx.set_trailing_metadata(
                        ((context.CONSISTENCY_TOKEN_KEY, context.format_position(consistency.committed)),)
                    )
                return result
            except DomainError as error:
                code = status_code_for(error).name
                await ctx.abort_with_status(to_status(error))  # type: ignore[attr-defined]
            except aio.AbortError:
                code = _code_name(ctx)
                raise
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED.name
                raise
            except NotImplementedError:
                code = grpc.StatusCode.UNIMPLEMENTED.name
                await ctx.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented yet")
            except Exception:
                code = grpc.StatusCode.INTERNAL.name
                log.exception("unhandled error in %s", method)
                await ctx.abort(grpc.StatusCode.INTERNAL, "internal error; the server logged the details")
            finally:
                stats.record(method, code, (time.perf_counter() - started) * 1000)
                context.deadline.reset(deadline_token)
                context.method.reset(method_token)
                context.consistency.reset(consistency_token)

        return wrapped


def _required_position(ctx: aio.ServicerContext[Any, Any]) -> int | None:
    """The newest consistency token the caller sent, or None; InvalidArgument for one that is not a token."""
    positions = []
    for key, value in ctx.invocation_metadata() or ():
        if key == context.CONSISTENCY_TOKEN_KEY:
            try:
                positions.append(context.parse_position(str(value)))
            except ValueError:
                raise InvalidArgument(
                    f"metadata {context.CONSISTENCY_TOKEN_KEY}: not a consistency token "
                    "(a token from a write response's metadata, like 0/16B3748)"
                ) from None
    return max(positions) if positions else None


Parse = Callable[[bytes], Any] | None


def _parsed(parse: Parse, data: Any) -> Any:
    """``data`` parsed into the method's request message; malformed bytes -> InvalidArgument.

    The message names no framework internals: the caller learns only that the
    bytes were not the method's request message.
    """
    if parse is None or not isinstance(data, bytes):
        return data
    try:
        message = parse(data)
    except DecodeError:
        raise InvalidArgument("the request is not a valid message of this method's request type") from None
    calls.note_request_id(getattr(message, "request_id", None))
    return message


def _parsing_request(parse: Parse, behaviour: Behaviour) -> Behaviour:
    async def parsing(data: Any, ctx: aio.ServicerContext[Any, Any]) -> Any:
        return await behaviour(_parsed(parse, data), ctx)

    return parsing


def _parsing_stream(parse: Parse, behaviour: Behaviour) -> Behaviour:
    """The stream's messages parsed one by one as the servicer reads them (a bad one ends the call)."""

    async def parsing(stream: AsyncIterable[Any], ctx: aio.ServicerContext[Any, Any]) -> Any:
        async def messages() -> AsyncIterator[Any]:
            async for data in stream:
                yield _parsed(parse, data)

        return await behaviour(messages(), ctx)

    return parsing


def _code_name(ctx: aio.ServicerContext[Any, Any]) -> str:
    """The status code a handler aborted with (``context.abort`` inside a servicer)."""
    code = ctx.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    return "UNKNOWN"
