"""The client's session: keeps the newest consistency token and sends it on every call."""

from __future__ import annotations

from typing import Any

from inventory_client._calls import CONSISTENCY_TOKEN_KEY, Method, Session
from inventory_client.auth import CallAuth


def test_the_newest_token_wins_whatever_the_order_tokens_arrive_in() -> None:
    session = Session()
    assert session.token is None
    session.observe("0/3000148")
    session.observe("0/2FFFFFF")  # older: ignored
    session.observe("not a token")
    assert session.token == "0/3000148"
    session.observe("1/0")
    assert session.token == "1/0"


def test_the_token_replaces_one_in_the_callers_metadata_only_when_the_session_has_one() -> None:
    session = Session()
    assert session.metadata([(CONSISTENCY_TOKEN_KEY, "0/5")]) == [(CONSISTENCY_TOKEN_KEY, "0/5")]
    session.observe("0/9")
    assert session.metadata([("a", "b"), (CONSISTENCY_TOKEN_KEY, "0/5")]) == [
        ("a", "b"),
        (CONSISTENCY_TOKEN_KEY, "0/9"),
    ]


class FakeUnary:
    """A grpc UnaryUnaryMultiCallable: records metadata, answers with a token in the trailers."""

    def __init__(self, trailer: str | None) -> None:
        self.trailer = trailer
        self.sent: list[Any] = []

    def with_call(self, request: Any, **kwargs: Any) -> tuple[str, Any]:
        self.sent.append(kwargs["metadata"])
        trailer = self.trailer

        class Call:
            def trailing_metadata(self) -> Any:
                return () if trailer is None else ((CONSISTENCY_TOKEN_KEY, trailer),)

        return "response", Call()


def test_a_write_response_token_is_sent_on_the_next_call() -> None:
    session = Session()
    write = FakeUnary("0/10")
    read = FakeUnary(None)
    Method(write, 5.0, CallAuth(None, None), session)(object())
    assert Method(read, 5.0, CallAuth(None, None), session)(object()) == "response"
    assert (CONSISTENCY_TOKEN_KEY, "0/10") in read.sent[0]
    assert all(key != CONSISTENCY_TOKEN_KEY for key, _ in write.sent[0])


def test_without_a_session_nothing_is_sent_or_kept() -> None:
    read = FakeUnary("0/10")
    calls: list[Any] = []

    def plain(request: Any, **kwargs: Any) -> str:
        calls.append(kwargs["metadata"])
        return "plain"

    plain.with_call = read.with_call  # type: ignore[attr-defined]
    assert Method(plain, 5.0, CallAuth(None, None), None)(object()) == "plain"
    assert all(key != CONSISTENCY_TOKEN_KEY for key, _ in calls[0] or ())


class FakeAsyncCall:
    def __init__(self, trailer: str) -> None:
        self.trailer = trailer

    def __await__(self) -> Any:
        async def response() -> str:
            return "async response"

        return response().__await__()

    async def trailing_metadata(self) -> Any:
        return ((CONSISTENCY_TOKEN_KEY, self.trailer),)


def test_the_async_client_keeps_and_sends_tokens_the_same_way() -> None:
    import asyncio

    from inventory_client._calls import AsyncMethod
    from inventory_client.auth import AsyncCallAuth

    session = Session()
    sent: list[Any] = []

    def unary(request: Any, **kwargs: Any) -> FakeAsyncCall:
        sent.append(kwargs["metadata"])
        return FakeAsyncCall("0/20")

    method = AsyncMethod(unary, 5.0, AsyncCallAuth(None, None), session)
    assert asyncio.run(method(object())) == "async response"
    assert session.token == "0/20"
    asyncio.run(method(object()))
    assert (CONSISTENCY_TOKEN_KEY, "0/20") in sent[1]
