"""Per-call context carried through the layers without passing gRPC objects down.

The server interceptors set these at the start of each call; the data layer
reads the deadline to bound database work, the ledger reads the principal.

The identity of a call (set by ``api.auth.AuthInterceptor``, described in
docs/security.md, "Per-call identity"):

- ``principal``: who is calling, as the policy names it: the ``sub`` of a
  verified bearer token, else the first URI SAN (SPIFFE ID) or the subject CN
  of a verified client certificate; "" for an anonymous call (only possible
  without a policy). Every ledger row records it as ``caller``.
- ``acting_user``: the id of the active user of this service the caller acts
  as (a token whose ``sub`` is that user's id), else None.
- ``may_act_for_users``: whether the caller may name another user in
  ``performed_by`` (a service principal whose binding has
  ``act_for_users: true``, or any caller when no policy is configured).
- ``permissions``: what the caller's roles allow; ``allows("inventory.v1.
  UserService/UpdateUser#role")`` answers pseudo-permissions as well.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Protocol
from uuid import UUID


class Permissions(Protocol):
    """The permissions of the current caller (``inventory_server.auth.policy.Grants``)."""

    def allows(self, permission: str) -> bool:
        """True when a role of the caller grants ``permission`` (a method name or a pseudo-permission)."""
        ...


class _AllowAll:
    def allows(self, permission: str) -> bool:
        return True

    def __repr__(self) -> str:
        return "ALLOW_ALL"


ALLOW_ALL: Permissions = _AllowAll()

# Absolute time.monotonic() by which the caller stops waiting, or None for no deadline.
deadline: ContextVar[float | None] = ContextVar("inventory_deadline", default=None)
# The authenticated caller (token sub, SPIFFE ID or certificate CN), or "" when anonymous.
principal: ContextVar[str] = ContextVar("inventory_principal", default="")
# The user of this service the call acts as (a user's own token), or None.
acting_user: ContextVar[UUID | None] = ContextVar("inventory_acting_user", default=None)
# May the caller set performed_by to a user other than itself (see the module docstring)?
may_act_for_users: ContextVar[bool] = ContextVar("inventory_may_act_for_users", default=True)
# What the caller may do; everything when no policy is configured.
permissions: ContextVar[Permissions] = ContextVar("inventory_permissions", default=ALLOW_ALL)
# Full gRPC method name of the current call, or "".
method: ContextVar[str] = ContextVar("inventory_method", default="")


def remaining() -> float | None:
    """Seconds left before the caller's deadline, or None when there is none."""
    end = deadline.get()
    return None if end is None else end - time.monotonic()
