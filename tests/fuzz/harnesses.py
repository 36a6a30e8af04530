"""Fuzz entry points for the parsers of client-supplied structure (issue 9, "Proof").

Each ``fuzz_*`` function takes raw bytes, turns them into the input its parser
gets from a request, and passes when the parser either accepts the input or
refuses it with ``InvalidArgument`` (the one exception that becomes a status
other than INTERNAL). Anything else raised is a crash the fuzzer reports.

- ``fuzz_listing``: the AIP-160 filter and order_by grammar and the whole list
  plan (``db.listing.plan_list``) for each resource, rendered to SQL text;
- ``fuzz_page_token``: the sealed token (``api.page_tokens.PageTokens.open``)
  and the cursor decoder behind it (``db.listing.tokens.decode_token``), the
  latter both on raw text and on base64 of fuzzed JSON-ish bytes;
- ``fuzz_etag``: ``api.convert.parse_etag`` (and ``domain.product.version_from_etag``);
- ``fuzz_update_mask``: ``api.convert.mask_paths`` for every resource's updatable fields.

They are driven by atheris (coverage-guided, ``python -m tests.fuzz.run``) and
by the unit tests in ``tests/unit/fuzz`` (a bounded atheris run in CI plus a
corpus of known-nasty inputs); docs/testing.md says how to run them longer.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable

from google.protobuf.field_mask_pb2 import FieldMask

from inventory_server.api.convert import mask_paths, parse_etag
from inventory_server.api.page_tokens import DEVELOPMENT_KEY, PageTokens
from inventory_server.db.listing import plan_list
from inventory_server.db.listing.fields import ResourceFields
from inventory_server.db.listing.tokens import decode_token, encode_token, fingerprint
from inventory_server.db.query import select
from inventory_server.domain import product, user, versioned, warehouse
from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.updates import UpdateRules
from inventory_server.repositories.products import PRODUCT_LIST_FIELDS
from inventory_server.repositories.reservations import RESERVATION_LIST_FIELDS
from inventory_server.repositories.stock_levels import LEVEL_LIST_FIELDS
from inventory_server.repositories.transactions import TRANSACTION_LIST_FIELDS
from inventory_server.repositories.users import USER_LIST_FIELDS

RESOURCES: tuple[ResourceFields, ...] = (
    PRODUCT_LIST_FIELDS,
    LEVEL_LIST_FIELDS,
    TRANSACTION_LIST_FIELDS,
    RESERVATION_LIST_FIELDS,
    USER_LIST_FIELDS,
)
UPDATABLE: tuple[UpdateRules, ...] = (
    product.PRODUCT_UPDATES,
    user.USER_UPDATES,
    warehouse.WAREHOUSE_UPDATES,
)
TOKENS = PageTokens([DEVELOPMENT_KEY])


def _text(data: bytes) -> str:
    """What a proto3 string field can hold: valid UTF-8 (grpc refuses anything else before us)."""
    return data.decode("utf-8", "replace")


def _split(data: bytes, parts: int) -> list[bytes]:
    """``data`` cut at NUL bytes into ``parts`` pieces (missing ones empty): several inputs in one."""
    pieces = data.split(b"\x00", parts - 1)
    return pieces + [b""] * (parts - len(pieces))


def _refused_or_accepted(call: Callable[[], object]) -> None:
    with contextlib.suppress(InvalidArgument):
        call()


def fuzz_listing(data: bytes) -> None:
    selector = data[0] if data else 0
    fields = RESOURCES[selector % len(RESOURCES)]
    filter_bytes, order_bytes = _split(data[1:], 2)
    query = ListQuery(
        page_size=1 + selector % 7,
        filter=_text(filter_bytes),
        order_by=_text(order_bytes),
        show_deleted=bool(selector & 8),
    )

    def plan() -> object:
        listing = plan_list(fields, query)
        return listing.apply(select("id").from_(fields.resource)).as_string()

    _refused_or_accepted(plan)


def fuzz_page_token(data: bytes) -> None:
    selector = data[0] if data else 0
    fields = RESOURCES[selector % len(RESOURCES)]
    text = _text(data[1:])
    specs = [*[spec for spec in fields.fields if spec.sortable][: 1 + selector % 3], *fields.key]
    expected = fingerprint(fields.resource, {"filter": ""})
    _refused_or_accepted(lambda: TOKENS.open(text))
    _refused_or_accepted(lambda: decode_token(text, expected, specs))
    # The cursor decoder behind a valid seal: base64 of arbitrary bytes (JSON or not).
    forged = base64.urlsafe_b64encode(data[1:]).decode().rstrip("=")
    _refused_or_accepted(lambda: decode_token(forged, expected, specs))
    _refused_or_accepted(lambda: decode_token(TOKENS.open(TOKENS.seal(forged)), expected, specs))
    # What the service itself wrote always decodes to what went in.
    if specs[0].type == "int" and len(specs) == 2:
        token = encode_token(expected, specs, [len(data), "00000000-0000-0000-0000-000000000000"])
        assert decode_token(TOKENS.open(TOKENS.seal(token)), expected, specs)[0] == len(data)


def fuzz_etag(data: bytes) -> None:
    etag = _text(data)
    version = versioned.version_from_etag(etag)
    assert version is None or 0 <= version <= versioned.MAX_VERSION
    _refused_or_accepted(lambda: parse_etag(etag))


def fuzz_update_mask(data: bytes) -> None:
    selector = data[0] if data else 0
    allowed = UPDATABLE[selector % len(UPDATABLE)]
    mask = FieldMask(paths=[_text(piece) for piece in data[1:].split(b",")])
    _refused_or_accepted(lambda: mask_paths(mask, allowed))


HARNESSES: dict[str, Callable[[bytes], None]] = {
    "listing": fuzz_listing,
    "page_token": fuzz_page_token,
    "etag": fuzz_etag,
    "update_mask": fuzz_update_mask,
}
