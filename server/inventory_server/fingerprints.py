"""The one canonical-JSON fingerprint: a stable SHA-256 of a JSON-able value.

Two things compare requests by content: a reused ``request_id`` must carry the
same request (AIP-155, ``services.idempotency``), and a page token only works
for the listing it was issued for (``db.listing.tokens``). Both hash the same
canonical text: keys sorted, no spaces, and anything JSON lacks (UUIDs,
datetimes, decimals) written as ``str()``. A neutral module with no imports of
the server: the db layer and the services both use it, and db may not import
services.

>>> fingerprint({"b": 1, "a": [1, "x"]}) == fingerprint({"a": [1, "x"], "b": 1})
True
>>> canonical_json({"b": 1, "a": None})
'{"a":null,"b":1}'
>>> len(fingerprint("anything"))
64
"""

from __future__ import annotations

import hashlib
import json


def canonical_json(value: object) -> str:
    """``value`` as JSON with sorted keys and no whitespace; non-JSON values as their ``str()``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def fingerprint(value: object) -> str:
    """The SHA-256 (hex) of :func:`canonical_json` of ``value``: equal for equal content."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()
