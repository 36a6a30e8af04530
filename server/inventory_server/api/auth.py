"""Server interceptor: every call authenticated and authorized before its handler runs.

Deny by default: with a policy configured, a call without credentials is
UNAUTHENTICATED and a call whose principal's roles do not grant the method is
PERMISSION_DENIED (``auth.authorizer``). ``grpc.health.v1.Health`` is always
open (load balancers and kubelets probe it without credentials); everything
else, reflection and Stats included, needs a permission like any method.
Reflection is a bidirectional stream, so every handler kind is wrapped here,
not only the unary ones ``api.interceptors.CallInterceptor`` wraps.

On success the call's identity goes into ``inventory_server.context``
(``principal``, ``acting_user``, ``may_act_for_users``, ``permissions``) for
the rest of the call. Registered before ``CallInterceptor`` (inside the
observability one): a call is authenticated before its request bytes are even
parsed, so an anonymous caller learns nothing from the parser, and a refused
call costs no parsing. Refusals of ``inventory.v1`` methods are counted in the
Stats method figures here, since ``CallInterceptor`` never sees them.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import Token
from typing import Any

import grpc
from grpc import aio

from inventory_server import context
from inventory_server.api.errors import status_code_for, to_status
from inventory_server.api.metrics import MethodStats
from inventory_server.auth.authorizer import Authorizer, Identity, Refusal, RefusalObserver
from inventory_server.auth.principals import bearer_token, certificate_principal
from inventory_server.domain.errors import DomainError
from inventory_server.observability.calls import note_principal

log = logging.getLogger(__name__)

# The methods whose refusals go into the Stats figures (those CallInterceptor counts).
COUNTED_PREFIX = "inventory.v1."
# Method prefixes that need no credentials.
OPEN_PREFIXES: tuple[str, ...] = ("/grpc.health.v1.Health/",)

Context = aio.ServicerContext[Any, Any]


def _certificate_principal(ctx: Context) -> str:
    try:
        auth = ctx.auth_context()
    except (AttributeError, RuntimeError):  # no security context on this call
        return ""
    return certificate_principal(auth)


class AuthInterceptor(aio.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps every handler (all four kinds) except those under ``OPEN_PREFIXES``."""

    def __init__(
        self,
        authorizer: Authorizer,
        stats: MethodStats | None = None,
        on_refused: RefusalObserver | None = None,
    ) -> None:
        self.authorizer = authorizer
        self.stats = stats
        self.on_refused = on_refused

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        name = method[1:]
        kinds = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(self._unary(name, handler.unary_unary), **kinds)  # type: ignore[arg-type]
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(self._unary(name, handler.stream_unary), **kinds)  # type: ignore[arg-type]
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(self._stream(name, handler.unary_stream), **kinds)  # type: ignore[arg-type]
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(self._stream(name, handler.stream_stream), **kinds)  # type: ignore[arg-type]
        return handler

    async def _admit(self, method: str, ctx: Context) -> list[tuple[Any, Token[Any]]]:
        """Authenticate and authorize (aborting the call otherwise); set the identity, return reset tokens."""
        started = time.perf_counter()
        principal = ""
        try:
            identity = await self.authorizer.identify(
                bearer_token(ctx.invocation_metadata()), _certificate_principal(ctx)
            )
            principal = identity.principal
            note_principal(principal)  # for the access log line, denied calls included
            self.authorizer.authorize(identity, method)
        except DomainError as error:
            code = status_code_for(error).name
            if self.stats is not None and method.startswith(COUNTED_PREFIX):
                self.stats.record("/" + method, code, (time.perf_counter() - started) * 1000)
            await self._tell(Refusal(method, principal, code))
            await ctx.abort_with_status(to_status(error))  # type: ignore[attr-defined]
            raise  # abort raised already; this keeps type checkers honest
        return _set(identity)

    async def _tell(self, refusal: Refusal) -> None:
        """The observer hears of the refusal; its failure must not change the caller's answer."""
        if self.on_refused is None:
            return
        try:
            await self.on_refused(refusal)
        except Exception:
            log.exception("the refusal observer failed for %s", refusal.method)

    def _unary(self, method: str, behaviour: Callable[[Any, Context], Awaitable[Any]]) -> Callable[..., Any]:
        async def wrapped(request: Any, ctx: Context) -> Any:
            tokens = await self._admit(method, ctx)
            try:
                return await behaviour(request, ctx)
            finally:
                _reset(tokens)

        return wrapped

    def _stream(self, method: str, behaviour: Callable[[Any, Context], Any]) -> Callable[..., Any]:
        if not inspect.isasyncgenfunction(behaviour):  # writes with ctx.write: stays a coroutine
            return self._unary(method, behaviour)

        async def wrapped(request: Any, ctx: Context) -> AsyncIterator[Any]:
            tokens = await self._admit(method, ctx)
            try:
                async for response in behaviour(request, ctx):
                    yield response
            finally:
                # A generator closed from another context (garbage collection) cannot reset;
                # the call's task ends with it anyway.
                with contextlib.suppress(ValueError):
                    _reset(tokens)

        return wrapped


def _set(identity: Identity) -> list[tuple[Any, Token[Any]]]:
    return [
        (context.principal, context.principal.set(identity.principal)),
        (context.acting_user, context.acting_user.set(identity.acting_user)),
        (context.may_act_for_users, context.may_act_for_users.set(identity.may_act_for_users)),
        (context.permissions, context.permissions.set(identity.permissions)),
    ]


def _reset(tokens: list[tuple[Any, Token[Any]]]) -> None:
    for variable, token in reversed(tokens):
        variable.reset(token)
