"""Opaque page tokens: a keyset cursor plus a fingerprint of the list parameters.

A token is URL-safe base64 of compact JSON ``{"f": fingerprint, "k": [values]}``.
It is not a secret: the values are the last row's sort keys, which the caller
has already seen, and they only ever become bound parameters. The API layer
seals it with an HMAC (``api.page_tokens``), so a forged token normally never
gets here; still, decoding treats its input as hostile: anything that is not
exactly what ``encode_token`` writes (deep nesting, lone surrogates, NUL,
numbers beyond bigint) is InvalidArgument naming ``page_token``, never an
exception the caller would see as INTERNAL.

>>> from inventory_server.db.listing.fields import FieldSpec
>>> spec = FieldSpec("qty", "qty", "int")
>>> token = encode_token("abc", [spec], [7])
>>> decode_token(token, "abc", [spec])
[7]
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from inventory_server.db.listing.errors import invalid
from inventory_server.db.listing.fields import FieldSpec
from inventory_server.fingerprints import fingerprint as content_fingerprint

MAX_TOKEN_LENGTH = 4096
_BIGINT = range(-(2**63), 2**63)


def fingerprint(resource: str, params: Mapping[str, object]) -> str:
    """A short stable hash of everything that shapes a listing except the page size.

    96 bits of the canonical-JSON fingerprint keep tokens short; a token only
    has to tell listings apart, not resist a forger (it grants nothing).
    """
    return content_fingerprint({"resource": resource, **params})[:24]


def encode_token(fingerprint: str, specs: Sequence[FieldSpec], values: Sequence[Any]) -> str:
    """The token for the page after the row whose sort-key values are ``values``."""
    payload = {"f": fingerprint, "k": [_dump(spec, value) for spec, value in zip(specs, values, strict=True)]}
    data = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_token(token: str, expected_fingerprint: str, specs: Sequence[FieldSpec]) -> list[Any]:
    """The cursor values in ``token``; InvalidArgument (field "page_token") when it is not valid here."""
    payload = _payload(token)
    issued_for, values = payload.get("f"), payload.get("k")
    if not isinstance(issued_for, str) or not isinstance(values, list):
        raise invalid("page_token", "is not a page token this service issued")
    if issued_for != expected_fingerprint:
        raise invalid(
            "page_token", "was issued for a different filter, order_by or show_deleted; start again"
        )
    if len(values) != len(specs):
        raise invalid("page_token", "is not a page token this service issued")
    try:
        return [_load(spec, value) for spec, value in zip(specs, values, strict=True)]
    except (TypeError, ValueError) as error:
        raise invalid("page_token", "is not a page token this service issued") from error


def _payload(token: str) -> dict[str, Any]:
    if len(token) > MAX_TOKEN_LENGTH:
        raise invalid("page_token", "is not a page token this service issued")
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(data)
    # RecursionError: deeply nested arrays; ValueError covers JSON errors and int() digit limits.
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as error:
        raise invalid("page_token", "is not a page token this service issued") from error
    if not isinstance(payload, dict):
        raise invalid("page_token", "is not a page token this service issued")
    return payload


def _dump(spec: FieldSpec, value: Any) -> Any:
    if spec.type == "timestamp" and isinstance(value, datetime):
        return value.isoformat()
    if spec.type == "uuid":
        return str(value)
    return value


def _load(spec: FieldSpec, value: Any) -> Any:
    """Check and convert one cursor value; TypeError/ValueError when it does not fit ``spec``."""
    if spec.type == "timestamp":
        moment = datetime.fromisoformat(_require(value, str))
        if moment.tzinfo is None:
            raise ValueError("naive timestamp")
        return moment
    if spec.type == "uuid":
        return uuid.UUID(_require(value, str))
    if spec.type == "int":
        if isinstance(value, bool):
            raise TypeError("bool")
        if _require(value, int) not in _BIGINT:
            raise ValueError("beyond bigint")
        return value
    if spec.type == "bool":
        return _require(value, bool)
    if spec.type in ("text", "enum"):
        return _storable_text(_require(value, str))
    raise ValueError(f"{spec.type} fields do not sort")


def _storable_text(value: str) -> str:
    """``value`` when PostgreSQL can take it as text: UTF-8 encodable (no lone surrogates), no NUL."""
    if "\x00" in value:
        raise ValueError("NUL in text")
    value.encode("utf-8")  # UnicodeEncodeError is a ValueError
    return value


def _require(value: Any, kind: type[Any]) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"expected {kind.__name__}")
    return value
