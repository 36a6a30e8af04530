"""One stub method with what the client adds to every call, for grpc and grpc.aio alike.

Each call gets the client's default deadline (``timeout=`` per call wins), a
fresh ``request_id`` when the request has an empty one (so that gRPC's retries
and the caller's own are idempotent), the bearer token, and typed errors.
"""

from __future__ import annotations

import uuid
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


class Method:
    """A method of a generated ``grpc`` stub with the behaviour above."""

    def __init__(self, call: Any, timeout: float | None, auth: CallAuth) -> None:
        self._call = call
        self._timeout = timeout
        self._auth = auth

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        kwargs["metadata"] = self._auth.metadata(kwargs.get("metadata"))
        try:
            return self._call(with_request_id(request), **kwargs)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error


class AsyncMethod:
    """The same for a ``grpc.aio`` stub: awaits the call (unary and client-streaming methods)."""

    def __init__(self, call: Any, timeout: float | None, auth: AsyncCallAuth) -> None:
        self._call = call
        self._timeout = timeout
        self._auth = auth

    async def __call__(self, request: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        kwargs["metadata"] = await self._auth.metadata(kwargs.get("metadata"))
        try:
            return await self._call(with_request_id(request), **kwargs)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error

    async def stream(self, request: Any, **kwargs: Any) -> Any:
        """Start a server-streaming call (not awaited: iterate it); errors come while iterating."""
        kwargs.setdefault("timeout", self._timeout)
        kwargs["metadata"] = await self._auth.metadata(kwargs.get("metadata"))
        return self._call(request, **kwargs)


class Stub:
    """Wraps every method of a generated stub in ``Method`` or ``AsyncMethod``."""

    def __init__(self, stub: Any, wrap: Any) -> None:
        self._stub = stub
        self._wrap = wrap

    def __getattr__(self, name: str) -> Any:
        return self._wrap(getattr(self._stub, name))
