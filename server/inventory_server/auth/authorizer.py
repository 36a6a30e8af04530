"""One identity per call from its credentials, and the policy's verdict on its method.

    authorizer = Authorizer(policy=WatchedFile(path, ...), tokens=TokenVerifier(...), users=roles)
    identity = await authorizer.identify(bearer_token(metadata), certificate_principal(auth))
    authorizer.authorize(identity, "inventory.v1.StockService/ShipStock")

Which credential names the principal: a bearer token when the call carries one
(a service relaying a user's token over its own mutual-TLS connection acts for
that user), else the verified client certificate. A call with an
``authorization`` header that does not verify is refused even when a
certificate would have been enough: a broken credential is never silently
replaced by another one.

Without a policy (development) nothing is refused for lack of permission, but
tokens that are sent are still verified (when the token settings are there;
otherwise they are ignored) and principals still recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from google.protobuf.descriptor import ServiceDescriptor

from inventory_server.auth.policy import Policy
from inventory_server.auth.tokens import InvalidToken, TokenVerifier
from inventory_server.auth.watched import WatchedFile
from inventory_server.context import ALLOW_ALL, Permissions
from inventory_server.domain.errors import PermissionDenied, Unauthenticated

log = logging.getLogger(__name__)

# The one message of every authentication failure: it must not help to forge a credential.
UNAUTHENTICATED_MESSAGE = "missing or invalid credentials"


class UserRoles(Protocol):
    """The role of an active user of this service (``services.user_roles.UserRoles``)."""

    async def role_of(self, user_id: UUID) -> str | None:
        """The role name (``viewer`` ...) of the active user ``user_id``, None when there is none."""
        ...


@dataclass(frozen=True)
class Identity:
    """Who the call is from; the interceptor copies it into ``inventory_server.context``."""

    principal: str = ""
    acting_user: UUID | None = None
    may_act_for_users: bool = True
    permissions: Permissions = ALLOW_ALL


@dataclass(frozen=True)
class Refusal:
    """A call refused by authentication or authorization, for an observer such as an audit log.

    ``principal`` is "" when the call did not authenticate; ``code`` is
    ``UNAUTHENTICATED`` or ``PERMISSION_DENIED``. The request was not parsed
    (authentication comes first), so no request fields are known.
    """

    method: str
    principal: str
    code: str


class RefusalObserver(Protocol):
    """Told about every refused call before the caller gets the answer (``api.auth.AuthInterceptor``)."""

    async def __call__(self, refusal: Refusal) -> None: ...


def method_names(services: Iterable[ServiceDescriptor]) -> list[str]:
    """Every full method name (``inventory.v1.ProductService/GetProduct``) of ``services``."""
    return [f"{service.full_name}/{method.name}" for service in services for method in service.methods]


def _user_id(subject: str) -> UUID | None:
    try:
        return UUID(subject)
    except ValueError:
        return None


class Authorizer:
    """Authenticates calls and checks them against the policy (none: development mode)."""

    def __init__(
        self,
        *,
        policy: WatchedFile[Policy] | None = None,
        tokens: TokenVerifier | None = None,
        users: UserRoles | None = None,
    ) -> None:
        self.policy = policy
        self.tokens = tokens
        self.users = users

    @property
    def enforcing(self) -> bool:
        return self.policy is not None

    async def identify(self, token: str | None, certificate_principal: str) -> Identity:
        """The call's identity; raises ``Unauthenticated`` for a bad token, or no credentials under a policy.

        ``token`` is None without an ``authorization`` header, "" for one that
        is not ``Bearer <token>``.
        """
        principal = certificate_principal
        role: str | None = None
        acting_user: UUID | None = None
        if token is not None and self.tokens is None and self.policy is None:
            # Development (no policy, no token settings): nothing could verify the token and
            # nothing depends on it, so a client configured with one still works.
            token = None
        if token is not None:
            principal = self._verify(token)
            user_id = _user_id(principal)
            if user_id is not None and self.users is not None:
                role = await self.users.role_of(user_id)
                acting_user = user_id if role is not None else None
        if self.policy is None:
            return Identity(principal, acting_user, acting_user is None, ALLOW_ALL)
        if not principal:
            raise Unauthenticated(UNAUTHENTICATED_MESSAGE)
        policy = self.policy.current()
        return Identity(
            principal,
            acting_user,
            acting_user is None and policy.may_act_for_users(principal),
            policy.grants(principal, [role] if role else []),
        )

    def _verify(self, token: str) -> str:
        if not token or self.tokens is None:
            log.info(
                "call refused: %s", "malformed authorization header" if not token else "tokens not configured"
            )
            raise Unauthenticated(UNAUTHENTICATED_MESSAGE)
        try:
            return self.tokens.principal(token)
        except InvalidToken as exc:
            log.info("call refused: bearer token %s", exc)
            raise Unauthenticated(UNAUTHENTICATED_MESSAGE) from None

    def authorize(self, identity: Identity, method: str) -> None:
        """Raise ``PermissionDenied`` naming ``method`` unless the identity's roles grant it."""
        if identity.permissions.allows(method):
            return
        log.info("permission denied: principal %r may not call %s", identity.principal, method)
        raise PermissionDenied(
            f"the caller may not call {method}", reason="PERMISSION_DENIED", metadata={"method": method}
        )
