"""HandlerCache: the interceptor chain runs once per method; each call still sees its own metadata."""

from __future__ import annotations

import logging
from typing import Any

import grpc
import pytest

from inventory_server.api.handler_cache import HandlerCache
from inventory_server.api.observability import ObservabilityInterceptor
from inventory_server.observability.logs import ACCESS_LOGGER

METHOD = "/inventory.v1.ProductService/GetProduct"


class Details:
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


class Context:
    def __init__(self, trace_id: str) -> None:
        self._metadata = (("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01"),)

    def invocation_metadata(self) -> Any:
        return self._metadata

    def code(self) -> None:
        return None

    def peer(self) -> str:
        return "ipv4:127.0.0.1:1"


async def test_the_chain_runs_once_per_known_method() -> None:
    built: list[str] = []
    handler = grpc.unary_unary_rpc_method_handler(lambda request, ctx: None)

    async def chain(details: Any) -> Any:
        built.append(details.method)
        return handler if details.method == METHOD else None

    cache = HandlerCache()
    for _ in range(3):
        assert await cache.intercept_service(chain, Details(METHOD)) is handler  # type: ignore[arg-type]
        assert await cache.intercept_service(chain, Details("/no.Such/Method")) is None  # type: ignore[arg-type]
    # the known method once; the unknown one each time (never kept, so the table stays bounded)
    assert built == [METHOD, "/no.Such/Method", "/no.Such/Method", "/no.Such/Method"]


async def test_a_cached_handler_reads_each_calls_own_metadata(caplog: pytest.LogCaptureFixture) -> None:
    async def answering(request: Any, ctx: Any) -> str:
        return "ok"

    observability = ObservabilityInterceptor()

    async def chain(details: Any) -> Any:
        async def inner(d: Any) -> Any:
            return grpc.unary_unary_rpc_method_handler(answering)

        return await observability.intercept_service(inner, details)

    cache = HandlerCache()
    first, second = "1" * 32, "2" * 32
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        for trace_id in (first, second):
            handler: Any = await cache.intercept_service(chain, Details(METHOD))  # type: ignore[arg-type]
            assert await handler.unary_unary(b"", Context(trace_id)) == "ok"
    assert [r.access["trace_id"] for r in caplog.records] == [first, second]  # type: ignore[attr-defined]
