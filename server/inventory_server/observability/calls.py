"""The per-call record the access line is written from.

The observability interceptor is the outermost one, so that every call is
counted and logged, authentication failures included. The layers inside it
learn things it cannot see from outside (who the caller is, once the
authentication interceptor has verified it); they note them here, on a
mutable record the outer interceptor created for this call and reads when the
call ends, after the inner ones have reset their own context variables.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class CallRecord:
    """What the access line says about the caller, filled in while the call runs."""

    principal: str = ""
    # Set by api.interceptors once it has parsed the request (the observer only sees its bytes).
    request_id: str = ""


current: ContextVar[CallRecord | None] = ContextVar("inventory_call_record", default=None)


def note_request_id(value: object) -> None:
    """Record the request's AIP-155 ``request_id`` (no-op outside an observed call or when not a str)."""
    record = current.get()
    if record is not None and isinstance(value, str):
        record.request_id = value


def note_principal(name: str) -> None:
    """Record the verified caller of the current call (no-op outside an observed call)."""
    record = current.get()
    if record is not None:
        record.principal = name
