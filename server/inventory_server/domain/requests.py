"""Rules shared by every request that carries a request_id (AIP-155)."""

from __future__ import annotations

# A request_id is an opaque client-chosen key; UUIDs are 36 characters.
MAX_REQUEST_ID_LENGTH = 128
