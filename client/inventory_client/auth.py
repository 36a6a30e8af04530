"""Bearer tokens on every call: a fixed token, or a provider asked again before the token expires.

A provider is a callable without arguments that returns either

- ``(token, expires_at)``: the client keeps the token and asks again ``refresh_margin``
  seconds (30 by default) before ``expires_at`` (a POSIX timestamp or an aware
  ``datetime``); or
- a bare ``token`` string: the client knows no expiry and asks before every call, so
  such a provider does its own caching.

``AsyncInventoryClient`` also accepts a provider that returns an awaitable (an
``async def``), so that fetching a token never blocks the event loop. One refresh
runs at a time; concurrent calls wait for it instead of asking the provider too.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

Token = str | tuple[str, float | datetime]
TokenProvider = Callable[[], Token]
AsyncTokenProvider = Callable[[], Token | Awaitable[Token]]
Metadata = tuple[tuple[str, str | bytes], ...]

AUTHORIZATION = "authorization"


def with_header(metadata: Any, header: tuple[str, str] | None) -> Metadata | None:
    """The call's metadata plus ``header``, unless the caller set an authorization of its own."""
    existing: Metadata = tuple((str(k), v) for k, v in (metadata or ()))
    if header is None or any(key.lower() == AUTHORIZATION for key, _ in existing):
        return existing or None
    return (*existing, header)


class _Cache:
    """The last token and when to ask again (None: ask before every call)."""

    def __init__(self, refresh_margin: float, clock: Callable[[], float]) -> None:
        self._margin = refresh_margin
        self._clock = clock
        self._header: tuple[str, str] | None = None
        self._refresh_at: float | None = None

    def fresh(self) -> tuple[str, str] | None:
        if self._header is None or self._refresh_at is None or self._clock() >= self._refresh_at:
            return None
        return self._header

    def store(self, token: object) -> tuple[str, str]:
        if isinstance(token, tuple) and len(token) == 2:
            value, expires_at = token
            seconds = expires_at.timestamp() if isinstance(expires_at, datetime) else float(expires_at)
            self._refresh_at = seconds - self._margin
        else:
            value, self._refresh_at = token, None
        if not isinstance(value, str) or not value:
            raise TypeError("a token provider returns a non-empty str or (str, expires_at)")
        self._header = (AUTHORIZATION, f"Bearer {value}")
        return self._header


def _static(token: str | None, provider: object | None) -> tuple[str, str] | None:
    if token is not None and provider is not None:
        raise ValueError("pass token= or token_provider=, not both")
    if token is not None and not token:
        raise ValueError("token= is empty")
    return (AUTHORIZATION, f"Bearer {token}") if token else None


class CallAuth:
    """The authorization header of each call of the synchronous client (thread-safe)."""

    def __init__(
        self,
        token: str | None = None,
        token_provider: AsyncTokenProvider | None = None,  # an awaitable result is refused at call time
        *,
        refresh_margin: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._static = _static(token, token_provider)
        self._provider = token_provider
        self._cache = _Cache(refresh_margin, clock)
        self._lock = threading.Lock()

    def metadata(self, metadata: Any) -> Sequence[tuple[str, str | bytes]] | None:
        return with_header(metadata, self._header())

    def _header(self) -> tuple[str, str] | None:
        if self._provider is None:
            return self._static
        with self._lock:
            header = self._cache.fresh()
            if header is None:
                token = self._provider()
                if inspect.isawaitable(token):
                    if inspect.iscoroutine(token):
                        token.close()  # never awaited: close it so that it does not warn later
                    raise TypeError("an awaitable token provider needs AsyncInventoryClient")
                header = self._cache.store(token)
            return header


class AsyncCallAuth:
    """The same for grpc.aio: the provider may be ``async def``; one refresh at a time."""

    def __init__(
        self,
        token: str | None = None,
        token_provider: AsyncTokenProvider | None = None,
        *,
        refresh_margin: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._static = _static(token, token_provider)
        self._provider = token_provider
        self._cache = _Cache(refresh_margin, clock)
        self._lock = asyncio.Lock()

    async def metadata(self, metadata: Any) -> Sequence[tuple[str, str | bytes]] | None:
        return with_header(metadata, await self._header())

    async def _header(self) -> tuple[str, str] | None:
        if self._provider is None:
            return self._static
        header = self._cache.fresh()  # the common case takes no lock
        if header is not None:
            return header
        async with self._lock:
            header = self._cache.fresh()
            if header is None:
                token = self._provider()
                if inspect.isawaitable(token):
                    token = await token
                header = self._cache.store(token)
            return header
