"""The outermost interceptor: each method's interceptor-wrapped handler is built once, not per call.

grpc.aio runs every interceptor's ``intercept_service`` for every call, and
ours each build a new ``RpcMethodHandler`` with new closures around the one
below: three coroutines and three handlers per call before the servicer runs
(a sizeable share of a cache hit's cost; bench/run.py). What they build
depends only on the method (the call's metadata, deadline and identity are
read from its context inside the wrapped behaviour), so this interceptor
keeps the result of the chain per method and hands it out again without
running the chain. Unknown methods (no handler) are not kept, so the table
holds at most one entry per method the server implements.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc import aio


class HandlerCache(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Must come first in the server's interceptor list; the ones after it must not vary per call."""

    def __init__(self) -> None:
        self._handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        method = handler_call_details.method
        handler = self._handlers.get(method)
        if handler is None:
            handler = await continuation(handler_call_details)
            if handler is not None:
                self._handlers[method] = handler
        return handler
