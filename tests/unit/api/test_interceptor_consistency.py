"""The interceptor's half of read-your-writes: the caller's token in, the commit's token out."""

from __future__ import annotations

from typing import Any, cast

import grpc
import pytest
from grpc import aio

from inventory_server import context
from inventory_server.api.interceptors import CallInterceptor
from inventory_server.api.metrics import MethodStats

KEY = context.CONSISTENCY_TOKEN_KEY


class FakeContext:
    def __init__(self, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        self.metadata = metadata
        self.trailing: Any = None
        self.status: Any = None

    def time_remaining(self) -> float | None:
        return None

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.metadata

    def set_trailing_metadata(self, metadata: Any) -> None:
        self.trailing = metadata

    async def abort_with_status(self, status: Any) -> None:
        self.status = status
        raise aio.AbortError()

    def code(self) -> Any:
        return None if self.status is None else self.status.code


def call(behaviour: Any, ctx: FakeContext) -> Any:
    wrapped = CallInterceptor(MethodStats())._wrap("/inventory.v1.ProductService/ListProducts", behaviour)
    return wrapped(object(), cast(aio.ServicerContext[Any, Any], ctx))


async def test_the_newest_token_the_caller_sent_is_what_reads_must_see() -> None:
    seen: list[int | None] = []

    async def behaviour(request: object, ctx: object) -> str:
        seen.append(context.required_position())
        return "ok"

    await call(behaviour, FakeContext(((KEY, "0/10"), ("other", "x"), (KEY, "1/0"))))
    await call(behaviour, FakeContext())
    assert seen == [1 << 32, None]
    assert context.required_position() is None  # nothing leaks past the call


async def test_a_commit_position_goes_back_as_trailing_metadata_and_a_read_sends_none() -> None:
    async def writes(request: object, ctx: object) -> str:
        context.note_commit(0x30)
        context.note_commit(0x20)  # an older position never replaces a newer one
        return "ok"

    async def reads(request: object, ctx: object) -> str:
        return "ok"

    written, read = FakeContext(), FakeContext()
    await call(writes, written)
    await call(reads, read)
    assert written.trailing == ((KEY, "0/30"),)
    assert read.trailing is None


async def test_a_token_that_is_not_a_wal_position_is_invalid_argument() -> None:
    async def behaviour(request: object, ctx: object) -> str:
        raise AssertionError("must not run")

    ctx = FakeContext(((KEY, "yesterday"),))
    with pytest.raises(aio.AbortError):
        await call(behaviour, ctx)
    assert ctx.status.code == grpc.StatusCode.INVALID_ARGUMENT
    assert KEY in ctx.status.details
