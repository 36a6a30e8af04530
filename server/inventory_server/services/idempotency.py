"""Request fingerprints for AIP-155 request_id handling."""

from __future__ import annotations

from inventory_server.domain.requests import MAX_REQUEST_ID_LENGTH

# A request's fingerprint is the canonical-JSON hash of its meaningful content:
# the same request_id with other content is refused.
from inventory_server.fingerprints import fingerprint

__all__ = ["MAX_REQUEST_ID_LENGTH", "fingerprint"]
