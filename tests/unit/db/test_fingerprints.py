"""One canonical-JSON fingerprint serves request_id replays and page tokens, and its values do not drift.

Stored idempotency keys and page tokens already handed out carry fingerprints:
the pinned digests below are what the two former copies computed, so a change
of the canonical text (key order, separators, how a UUID is written) fails here
instead of refusing live retries or tokens after a deploy.
"""

from __future__ import annotations

import doctest
import hashlib
import uuid
from datetime import UTC, datetime

import inventory_server.fingerprints as fingerprints_module
from inventory_server.db.listing import tokens
from inventory_server.fingerprints import canonical_json, fingerprint
from inventory_server.services import idempotency

PAYLOAD = {
    "sku": "A-1",
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    "tags": ["x", 1, None],
}
PAYLOAD_TEXT = (
    '{"at":"2026-01-02 03:04:05+00:00","id":"12345678-1234-5678-1234-567812345678",'
    '"sku":"A-1","tags":["x",1,null]}'
)


def test_canonical_text_sorts_keys_drops_spaces_and_writes_other_values_as_str() -> None:
    assert canonical_json(PAYLOAD) == PAYLOAD_TEXT


def test_request_fingerprint_is_the_sha256_of_the_canonical_text() -> None:
    assert idempotency.fingerprint is fingerprint
    assert fingerprint(PAYLOAD) == hashlib.sha256(PAYLOAD_TEXT.encode()).hexdigest()
    assert fingerprint(dict(reversed(PAYLOAD.items()))) == fingerprint(PAYLOAD)
    assert fingerprint({**PAYLOAD, "sku": "A-2"}) != fingerprint(PAYLOAD)


def test_listing_fingerprint_is_the_first_24_hex_digits_over_resource_and_params() -> None:
    params = {"filter": "qty > 1", "order_by": "qty desc", "show_deleted": False}
    text = '{"filter":"qty > 1","order_by":"qty desc","resource":"things","show_deleted":false}'
    assert tokens.fingerprint("things", params) == hashlib.sha256(text.encode()).hexdigest()[:24]
    assert tokens.fingerprint("others", params) != tokens.fingerprint("things", params)


def test_module_examples_hold() -> None:
    assert doctest.testmod(fingerprints_module).failed == 0
