"""Per-call context carried through the layers without passing gRPC objects down.

The server interceptor sets these at the start of each call; the data layer
reads the deadline to bound database work, and the ledger reads the caller.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

# Absolute time.monotonic() by which the caller stops waiting, or None for no deadline.
deadline: ContextVar[float | None] = ContextVar("inventory_deadline", default=None)
# Authenticated calling service (set once callers authenticate), or "".
caller: ContextVar[str] = ContextVar("inventory_caller", default="")
# Full gRPC method name of the current call, or "".
method: ContextVar[str] = ContextVar("inventory_method", default="")


def remaining() -> float | None:
    """Seconds left before the caller's deadline, or None when there is none."""
    end = deadline.get()
    return None if end is None else end - time.monotonic()
