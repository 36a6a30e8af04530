"""The interceptor hands the caller's deadline to the database work (``inventory_server.context``).

gRPC cancels a handler whose deadline passed, which hides a missing hand-off
end to end; these tests call the wrapped handler directly, with no gRPC
cancellation, so only the hand-off can bound the work.
"""

from __future__ import annotations

import time
from typing import Any, cast

from grpc import aio

from inventory_server import context
from inventory_server.api.interceptors import CallInterceptor
from inventory_server.api.metrics import MethodStats

METHOD = "/inventory.v1.ProductService/GetProduct"


class FakeContext:
    """A servicer context with a deadline and no security context."""

    def __init__(self, time_remaining: float | None) -> None:
        self._remaining = time_remaining

    def time_remaining(self) -> float | None:
        return self._remaining

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return ()


def wrapped(behaviour: Any) -> Any:
    return CallInterceptor(MethodStats())._wrap(METHOD, behaviour)


async def test_the_callers_remaining_time_bounds_the_work() -> None:
    seen: list[float | None] = []

    async def behaviour(request: object, ctx: object) -> str:
        seen.append(context.remaining())
        return "done"

    before = time.monotonic()
    assert await wrapped(behaviour)(object(), cast(aio.ServicerContext[Any, Any], FakeContext(3.0))) == "done"
    [remaining] = seen
    assert remaining is not None
    assert 3.0 - (time.monotonic() - before) - 0.5 < remaining <= 3.0


async def test_no_deadline_means_no_bound_and_nothing_leaks_past_the_call() -> None:
    seen: list[float | None] = []

    async def behaviour(request: object, ctx: object) -> None:
        seen.append(context.remaining())

    await wrapped(behaviour)(object(), cast(aio.ServicerContext[Any, Any], FakeContext(None)))
    await wrapped(behaviour)(object(), cast(aio.ServicerContext[Any, Any], FakeContext(2.0)))
    assert seen[0] is None
    assert seen[1] is not None
    assert context.remaining() is None  # reset once the call ended
