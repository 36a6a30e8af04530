"""One stub method with what the client adds to every call, for grpc and grpc.aio alike.

Each call gets the client's default deadline (``timeout=`` per call wins), a
fresh ``request_id`` when the request has an empty one (so that gRPC's retries
and the caller's own are idempotent), the bearer token, and typed errors.

Session consistency (read-your-writes, docs/client.md): with a ``Session``,
each call sends the newest consistency token the client has seen
(``x-inventory-consistency-token``), and each response's token (trailing
metadata of a write) is remembered if it is newer. The server then serves the
client's reads from a replica only if that replica has replayed the client's
writes, else from the primary.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any

import grpc

from inventory_client.auth import AsyncCallAuth, CallAuth
from inventory_client.errors import from_rpc_error


def with_request_id(request: Any) -> Any:
    """The request with a fresh request_id when it has an empty one (a copy: the caller's stays as is)."""
    descriptor = getattr(request, "DESCRIPTOR", None)  # a request iterator (streaming) has none
    if descriptor is None or "request_id" not in descriptor.fields_by_name or request.request_id:
        return request
    filled = type(request)()
    filled.CopyFrom(request)
    filled.request_id = str(uuid.uuid4())
    return filled


CONSISTENCY_TOKEN_KEY = "x-inventory-consistency-token"  # noqa: S105 - a metadata key, not a secret


def _position(token: str) -> int | None:
    """The WAL position a token names ("16/B374D848"), or None for anything else."""
    high, slash, low = token.partition("/")
    try:
        return (int(high, 16) << 32) | int(low, 16) if slash else None
    except ValueError:
        return None


class Session:
    """The newest consistency token one client has seen (thread-safe; shared by its stubs)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._token: str | None = None
        self._position = -1

    @property
    def token(self) -> str | None:
        """The token to send (forward it to another service's client to carry the session over)."""
        return self._token

    def observe(self, token: str | None) -> None:
        """Remember ``token`` if it is newer than the one held (a token from another client too)."""
        position = None if token is None else _position(token)
        if position is None:
            return
        with self._lock:
            if position > self._position:
                self._position, self._token = position, token

    def metadata(self, metadata: Sequence[tuple[str, str]] | None) -> list[tuple[str, str]]:
        out = [m for m in metadata or () if m[0] != CONSISTENCY_TOKEN_KEY or self._token is None]
        if self._token is not None:
            out.append((CONSISTENCY_TOKEN_KEY, self._token))
        return out

    def observe_metadata(self, metadata: Any) -> None:
        for key, value in metadata or ():
            if key == CONSISTENCY_TOKEN_KEY:
                self.observe(str(value))


class Method:
    """A method of a generated ``grpc`` stub with the behaviour above."""

    def __init__(
        self, call: Any, timeout: float | None, auth: CallAuth, session: Session | None = None
    ) -> None:
        self._call = call
        self._timeout = timeout
        self._auth = auth
        self._session = session

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        kwargs["metadata"] = self._auth.metadata(kwargs.get("metadata"))
        session = self._session
        try:
            if session is None or not hasattr(self._call, "with_call"):  # server streaming: no token
                return self._call(with_request_id(request), **kwargs)
            kwargs["metadata"] = session.metadata(kwargs["metadata"])
            response, call = self._call.with_call(with_request_id(request), **kwargs)
            session.observe_metadata(call.trailing_metadata())
            return response
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error


class AsyncMethod:
    """The same for a ``grpc.aio`` stub: awaits the call (unary and client-streaming methods)."""

    def __init__(
        self, call: Any, timeout: float | None, auth: AsyncCallAuth, session: Session | None = None
    ) -> None:
        self._call = call
        self._timeout = timeout
        self._auth = auth
        self._session = session

    async def __call__(self, request: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        kwargs["metadata"] = await self._auth.metadata(kwargs.get("metadata"))
        session = self._session
        if session is not None:
            kwargs["metadata"] = session.metadata(kwargs["metadata"])
        try:
            call = self._call(with_request_id(request), **kwargs)
            response = await call
            if session is not None:
                session.observe_metadata(await call.trailing_metadata())
            return response
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error

    async def stream(self, request: Any, **kwargs: Any) -> Any:
        """Start a server-streaming call (not awaited: iterate it); errors come while iterating."""
        kwargs.setdefault("timeout", self._timeout)
        kwargs["metadata"] = await self._auth.metadata(kwargs.get("metadata"))
        if self._session is not None:
            kwargs["metadata"] = self._session.metadata(kwargs["metadata"])
        return self._call(request, **kwargs)


class Stub:
    """Wraps every method of a generated stub in ``Method`` or ``AsyncMethod``."""

    def __init__(self, stub: Any, wrap: Any) -> None:
        self._stub = stub
        self._wrap = wrap

    def __getattr__(self, name: str) -> Any:
        return self._wrap(getattr(self._stub, name))
