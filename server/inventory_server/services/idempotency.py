"""Request fingerprints for AIP-155 request_id handling."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from inventory_server.domain.requests import MAX_REQUEST_ID_LENGTH

__all__ = ["MAX_REQUEST_ID_LENGTH", "fingerprint"]


def fingerprint(payload: Any) -> str:
    """A stable hash of a request's meaningful content (same request_id + other content -> refused)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
