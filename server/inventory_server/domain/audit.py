"""Audit events: the append-only record of changes, logins and refused calls (issue 10).

A row names who (principal, acting user), what (method, resource, the names
of the changed fields, never their values) and how it ended (``result``:
"OK" or a status code name). It is never changed or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

OK = "OK"


@dataclass(frozen=True, slots=True)
class NewAuditEvent:
    """An event about to be recorded; the database gives it an id and a time."""

    principal: str
    acting_user: UUID | None
    method: str
    resource: str
    request_id: str
    changed_fields: tuple[str, ...]
    result: str


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """A recorded event (the columns of ``audit_events``)."""

    id: UUID
    create_time: datetime
    principal: str
    acting_user: UUID | None
    method: str
    resource: str
    request_id: str
    changed_fields: tuple[str, ...]
    result: str
