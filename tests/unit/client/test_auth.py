"""Bearer tokens: added to every call, a provider asked again only near expiry, one refresh at a time."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from inventory_client import AsyncInventoryClient, InventoryClient
from inventory_client._calls import AsyncMethod, Method
from inventory_client.auth import AsyncCallAuth, CallAuth, Token
from inventory_client.v1 import product_pb2

REQUEST = product_pb2.GetProductRequest(id="x")


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Provider:
    """Hands out token-1, token-2, ... with the given lifetime (None: a bare string)."""

    def __init__(self, clock: Clock, lifetime: float | None = 300.0) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0

    def __call__(self) -> Token:
        self.calls += 1
        token = f"token-{self.calls}"
        return token if self.lifetime is None else (token, self.clock() + self.lifetime)


def sent_metadata(auth: CallAuth, **kwargs: Any) -> Any:
    seen: list[Any] = []
    Method(lambda request, **kw: seen.append(kw["metadata"]), 1.0, auth)(REQUEST, **kwargs)
    return seen[0]


def test_a_fixed_token_goes_on_every_call_beside_the_callers_metadata() -> None:
    auth = CallAuth(token="abc")
    assert sent_metadata(auth) == (("authorization", "Bearer abc"),)
    assert sent_metadata(auth, metadata=[("x-trace", "1")]) == (
        ("x-trace", "1"),
        ("authorization", "Bearer abc"),
    )


def test_the_callers_own_authorization_wins() -> None:
    assert sent_metadata(CallAuth(token="abc"), metadata=(("Authorization", "Bearer mine"),)) == (
        ("Authorization", "Bearer mine"),
    )


def test_without_a_token_the_metadata_is_the_callers() -> None:
    assert sent_metadata(CallAuth()) is None
    assert sent_metadata(CallAuth(), metadata=[("k", "v")]) == (("k", "v"),)


def test_a_provider_is_asked_again_only_within_the_margin_before_expiry() -> None:
    clock = Clock()
    provider = Provider(clock, lifetime=300)
    auth = CallAuth(token_provider=provider, refresh_margin=30, clock=clock)
    assert sent_metadata(auth) == (("authorization", "Bearer token-1"),)
    clock.now += 269  # 31 s before expiry: still fresh
    assert sent_metadata(auth) == (("authorization", "Bearer token-1"),)
    clock.now += 1  # 30 s before expiry: refresh
    assert sent_metadata(auth) == (("authorization", "Bearer token-2"),)
    assert provider.calls == 2


def test_an_aware_datetime_is_an_expiry_too() -> None:
    clock = Clock(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
    calls: list[int] = []

    def provider() -> Token:
        calls.append(1)
        return "dt", datetime(2030, 1, 1, 0, 10, tzinfo=UTC)

    auth = CallAuth(token_provider=provider, clock=clock)
    sent_metadata(auth)
    clock.now += timedelta(minutes=9).total_seconds()
    sent_metadata(auth)
    assert len(calls) == 1
    clock.now += 31
    sent_metadata(auth)
    assert len(calls) == 2


def test_a_provider_returning_a_bare_string_is_asked_before_every_call() -> None:
    provider = Provider(Clock(), lifetime=None)
    auth = CallAuth(token_provider=provider)
    assert [sent_metadata(auth)[0][1] for _ in range(3)] == [
        "Bearer token-1",
        "Bearer token-2",
        "Bearer token-3",
    ]


def test_concurrent_threads_share_one_refresh() -> None:
    clock = Clock()
    gate = threading.Event()
    calls: list[int] = []

    def slow() -> Token:
        calls.append(1)
        gate.wait(5)
        return "shared", clock() + 600

    auth = CallAuth(token_provider=slow, clock=clock)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(sent_metadata(auth))) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert len(calls) == 1
    assert results == [(("authorization", "Bearer shared"),)] * 8


def test_bad_settings_and_bad_provider_results_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        CallAuth(token="a", token_provider=lambda: "b")
    with pytest.raises(ValueError, match="empty"):
        CallAuth(token="")
    with pytest.raises(TypeError, match="non-empty"):
        sent_metadata(CallAuth(token_provider=lambda: ""))
    with pytest.raises(ValueError, match="not both"):
        InventoryClient("127.0.0.1:1", token="a", token_provider=lambda: "b")


async def test_a_sync_client_refuses_an_async_provider() -> None:
    async def provider() -> Token:
        return "never"

    with pytest.raises(TypeError, match="AsyncInventoryClient"):
        sent_metadata(CallAuth(token_provider=provider))


async def test_the_async_client_awaits_an_async_provider_once_for_concurrent_calls() -> None:
    clock = Clock()
    calls: list[int] = []

    async def provider() -> Token:
        calls.append(1)
        await asyncio.sleep(0.05)
        return "async-token", clock() + 600

    seen: list[Any] = []

    async def call(request: Any, **kwargs: Any) -> None:
        seen.append(kwargs["metadata"])

    method = AsyncMethod(call, 1.0, AsyncCallAuth(token_provider=provider, clock=clock))
    await asyncio.gather(*(method(REQUEST) for _ in range(10)))
    assert len(calls) == 1
    assert seen == [(("authorization", "Bearer async-token"),)] * 10
    clock.now += 600
    await method(REQUEST)
    assert len(calls) == 2


async def test_the_async_client_takes_a_plain_provider_too() -> None:
    seen: list[Any] = []

    async def call(request: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    await AsyncMethod(call, 2.0, AsyncCallAuth(token_provider=lambda: "plain"))(REQUEST)
    assert seen == [{"timeout": 2.0, "metadata": (("authorization", "Bearer plain"),)}]
    client = AsyncInventoryClient("127.0.0.1:1", token="t")
    await client.close()


def test_a_failing_provider_fails_that_call_and_is_asked_again_on_the_next() -> None:
    answers: list[Token | Exception] = [RuntimeError("identity provider down"), ("recovered", 10_000.0)]

    def flaky() -> Token:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    auth = CallAuth(token_provider=flaky, clock=Clock())
    with pytest.raises(RuntimeError, match="identity provider down"):
        sent_metadata(auth)
    assert sent_metadata(auth) == (("authorization", "Bearer recovered"),)
