"""Who may be named as the member of staff behind a stock movement (``performed_by``).

- A user calling with their own token (``context.acting_user``) performs their
  movements themselves: ``performed_by`` is theirs (the API fills it in when
  empty) and any other user is PERMISSION_DENIED.
- A service principal may name a user only when its policy binding says
  ``act_for_users: true`` (``context.may_act_for_users``): a till or an order
  system records the cashier; a reporting job must not invent one.
- Without a policy (development) any user may be named.
"""

from __future__ import annotations

from uuid import UUID

from inventory_server import context
from inventory_server.domain.errors import PermissionDenied

FIELD = "performed_by"


def check_performer(performed_by: UUID) -> None:
    """Raise ``PermissionDenied`` when the caller may not record ``performed_by`` as the performer."""
    acting = context.acting_user.get()
    if acting is not None:
        if performed_by != acting:
            raise PermissionDenied(
                "performed_by must be the calling user (or empty)",
                reason="PERFORMER_NOT_CALLER",
                metadata={"field": FIELD},
            )
        return
    if not context.may_act_for_users.get():
        raise PermissionDenied(
            "this caller may not act for users: its policy binding needs act_for_users: true",
            reason="ACTING_FOR_USERS_NOT_ALLOWED",
            metadata={"field": FIELD},
        )
