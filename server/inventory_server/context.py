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

import re
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


class Consistency:
    """Read-your-writes for one call (docs/scaling.md, "Read replicas").

    ``required``: the WAL position the caller's consistency token names (a read
    goes to a replica only if it has replayed at least this far); ``committed``:
    the position after this call's last commit, sent back as the call's token.
    Positions are LSNs as integers (``lsn.parse``).
    """

    __slots__ = ("committed", "required")

    def __init__(self, required: int | None = None) -> None:
        self.required = required
        self.committed: int | None = None

    def note_commit(self, position: int) -> None:
        if self.committed is None or position > self.committed:
            self.committed = position


# Set per call by api.interceptors.CallInterceptor; None outside a call (background work).
consistency: ContextVar[Consistency | None] = ContextVar("inventory_consistency", default=None)


def required_position() -> int | None:
    """The WAL position the current call's reads must see, or None."""
    current = consistency.get()
    return None if current is None else current.required


def note_commit(position: int) -> None:
    """Record a commit's WAL position for the current call's consistency token (no-op outside a call)."""
    current = consistency.get()
    if current is not None:
        current.note_commit(position)


# Consistency tokens are WAL positions in the text form PostgreSQL prints (pg_lsn, "16/B374D848":
# the high and low 32 bits in hex), compared as the 64-bit integer they name.
CONSISTENCY_TOKEN_KEY = "x-inventory-consistency-token"  # noqa: S105 - a metadata key
_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")


def parse_position(text: str) -> int:
    """The WAL position a token names; ValueError when it is not one."""
    match = _LSN.match(text.strip())
    if match is None:
        raise ValueError("not a WAL position")
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def format_position(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"
