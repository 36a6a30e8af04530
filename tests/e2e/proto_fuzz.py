"""Hypothesis strategies for raw request bytes, generated from protobuf message descriptors.

``message_bytes(descriptor, hints)`` draws the wire encoding of a message
field by field, recursively (every field of every nested message, repeated
fields 0-3 times, oneof members possibly several at once), so it reaches
inputs no generated class would serialize:

- every scalar: int64/uint64 extremes, negative values in unsigned and size
  fields, huge sizes, NaN and infinities;
- strings: text the field's name suggests (ids, etags, page tokens, filters,
  order_by, mask paths, request_ids; see ``Hints``), long and deeply nested
  text, NUL and lone-surrogate-like bytes, and invalid UTF-8 as raw bytes;
- wire-level damage: a field sent with a wire type that does not match its
  declared type, an unknown field number, a truncated or over-long length
  prefix.

The encodings are written by hand (``_varint``, ``_key``) because the
generated classes refuse exactly the inputs a hostile client can send.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import strategies as st

INT64_EXTREMES = (0, 1, -1, 2**31 - 1, -(2**31), 2**32, 2**63 - 1, -(2**63), 2**64 - 1, 10**12, -(10**12))
MAX_DEPTH = 4
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5

_VARINT_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_BOOL,
    FieldDescriptor.TYPE_ENUM,
}
_ZIGZAG_TYPES = {FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SINT64}
_FIXED64_TYPES = {FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED64, FieldDescriptor.TYPE_DOUBLE}
_FIXED32_TYPES = {FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_SFIXED32, FieldDescriptor.TYPE_FLOAT}

# Invalid UTF-8 and other byte strings a proto3 string field must never contain.
BAD_UTF8 = (b"\xff", b"\xfe\xff", b"\xc0\x80", b"\xed\xa0\x80", b"abc\x80", b"\xf4\x90\x80\x80", b'W/"\xff"')
FILTER_WORDS = (
    "AND", "OR", "NOT", "-", "=", "!=", "<", "<=", ">", ">=", ":", "(", ")", '"', "'", "*", ".", ",",
    "true", "false", "null", "2026-01-01T00:00:00Z", "9223372036854775808", "-1", "1e309", "\\", "\x00",
)  # fmt: skip


def _varint(value: int) -> bytes:
    """Base-128 varint of ``value`` as protobuf writes it (negative ints as 10-byte two's complement)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint((number << 3) | wire_type)


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _key(number, LENGTH) + _varint(len(payload)) + payload


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


@dataclass(frozen=True)
class Hints:
    """Values that mean something to the service, drawn for fields with matching names."""

    ids: Sequence[str] = ()
    field_names: Sequence[str] = ()
    page_tokens: Sequence[str] = ()
    etags: Sequence[str] = ('W/"1"', 'W/"2"', 'W/"0"', 'W/"²"', 'W/"' + "9" * 4301 + '"', '"1"', "W/", "*")
    extra: dict[str, Sequence[str]] = field(default_factory=dict)


def _words(hints: Hints) -> st.SearchStrategy[str]:
    return st.sampled_from([*FILTER_WORDS, *hints.field_names]) | st.text(max_size=12)


def _nested(opening: str, closing: str) -> st.SearchStrategy[str]:
    return st.integers(1, 5000).map(lambda depth: opening * depth + "x" + closing * depth)


def _text_for(name: str, hints: Hints) -> st.SearchStrategy[str]:
    """Text a string field called ``name`` might plausibly (or implausibly) hold."""
    generic = st.one_of(
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
        st.integers(1, 70_000).map(lambda n: "x" * n),  # long: past every length limit
        _nested("(", ")"),
        _nested('"', '"'),
        _nested("[", "]"),
    )
    choices: list[st.SearchStrategy[str]] = [generic]
    if name.endswith("id") or name.endswith("ids") or name in ("parent", "reservation"):
        choices.append(st.sampled_from(list(hints.ids)) if hints.ids else st.uuids().map(str))
        choices.append(st.uuids().map(str))
    if name == "etag":
        choices.append(st.sampled_from(list(hints.etags)))
        choices.append(st.integers(-(2**70), 2**70).map(lambda n: f'W/"{n}"'))
    if name.endswith("page_token") or name.endswith("resume_token") or name == "token":
        choices.append(st.sampled_from(list(hints.page_tokens) or ["x"]))
        choices.append(
            st.tuples(
                st.sampled_from(list(hints.page_tokens) or ["x"]), st.integers(0, 200), st.characters()
            ).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :])  # one character changed
        )
        choices.append(st.binary(max_size=200).map(lambda b: base64.urlsafe_b64encode(b).decode()))
    if name in ("filter", "order_by", "paths", "query"):
        joined = st.lists(_words(hints), max_size=25).map(" ".join)
        choices.append(joined)
        choices.append(
            st.tuples(
                st.sampled_from(list(hints.field_names) or ["x"]), st.sampled_from(FILTER_WORDS[4:11]), joined
            ).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
        )
        choices.append(st.integers(1, 3000).map(lambda n: "NOT " * n + "a = 1"))
        choices.append(st.integers(1, 3000).map(lambda n: "a = 1" + " AND a = 1" * n))
        if name == "paths":
            choices.append(st.sampled_from(list(hints.field_names) or ["x"]))
    if name in hints.extra:
        choices.append(st.sampled_from(list(hints.extra[name])))
    return st.one_of(*choices)


def _string_payload(name: str, hints: Hints) -> st.SearchStrategy[bytes]:
    valid = _text_for(name, hints).map(lambda s: s.encode("utf-8", "surrogatepass"))
    invalid = st.tuples(st.text(max_size=8), st.sampled_from(BAD_UTF8)).map(lambda t: t[0].encode() + t[1])
    return st.one_of(valid, valid, valid, invalid)


def _scalar_value(fd: FieldDescriptor) -> st.SearchStrategy[bytes]:
    """The encoded value (no key) of a scalar field, by its declared type."""
    ints = st.sampled_from(INT64_EXTREMES) | st.integers(-(2**63), 2**64 - 1) | st.integers(-3, 1000)
    if fd.type in _VARINT_TYPES:
        return ints.map(_varint)
    if fd.type in _ZIGZAG_TYPES:
        return st.integers(-(2**63), 2**63 - 1).map(lambda v: _varint(_zigzag(v)))
    if fd.type in _FIXED64_TYPES:
        if fd.type == FieldDescriptor.TYPE_DOUBLE:
            return st.floats(allow_nan=True, allow_infinity=True).map(lambda v: struct.pack("<d", v))
        return st.integers(0, 2**64 - 1).map(lambda v: struct.pack("<Q", v))
    if fd.type in _FIXED32_TYPES:
        if fd.type == FieldDescriptor.TYPE_FLOAT:
            return st.floats(width=32, allow_nan=True, allow_infinity=True).map(
                lambda v: struct.pack("<f", v)
            )
        return st.integers(0, 2**32 - 1).map(lambda v: struct.pack("<I", v))
    raise ValueError(f"not a scalar: {fd.full_name}")


def _wire_type(fd: FieldDescriptor) -> int:
    if fd.type in _VARINT_TYPES or fd.type in _ZIGZAG_TYPES:
        return VARINT
    if fd.type in _FIXED64_TYPES:
        return FIXED64
    if fd.type in _FIXED32_TYPES:
        return FIXED32
    return LENGTH


def _plausible_text(name: str, hints: Hints) -> st.SearchStrategy[str]:
    """Text a well-behaved client would send in a field called ``name``: gets a call past validation."""
    if name == "sku":
        return st.uuids().map(lambda u: f"FZ-{u.hex[:12]}")
    if name == "email":
        return st.uuids().map(lambda u: f"{u.hex[:12]}@example.com")
    if name == "code":
        return st.uuids().map(lambda u: f"WH-{u.hex[:10].upper()}")
    if name == "request_id":  # mostly fresh, sometimes one seen before (a replay or a mismatch)
        return st.uuids().map(str) | st.sampled_from(list(hints.extra.get(name, ["r"])))
    if name in hints.extra:
        return st.sampled_from(list(hints.extra[name]))
    if name.endswith("id") or name.endswith("ids"):
        return st.sampled_from(list(hints.ids)) if hints.ids else st.uuids().map(str)
    if name == "etag":
        return st.sampled_from(['W/"1"', 'W/"2"', ""])
    if name.endswith("page_token"):
        return st.sampled_from(["", *hints.page_tokens])
    if name in ("filter", "order_by", "paths"):
        return st.sampled_from(["", *hints.field_names[:20]])
    return st.text(st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=20)


def _well_formed_field(
    fd: FieldDescriptor, hints: Hints, depth: int, plausible: bool
) -> st.SearchStrategy[bytes]:
    """One occurrence of ``fd``, encoded as its declared type says."""
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        if depth >= MAX_DEPTH:
            return st.just(_length_delimited(fd.number, b""))
        message = fd.message_type
        assert message is not None
        inner = st.deferred(lambda: _fields(message, hints, depth + 1, plausible))
        return inner.map(lambda payload: _length_delimited(fd.number, payload))
    if fd.type == FieldDescriptor.TYPE_STRING:
        if plausible:
            return _plausible_text(fd.name, hints).map(lambda s: _length_delimited(fd.number, s.encode()))
        return _string_payload(fd.name, hints).map(lambda payload: _length_delimited(fd.number, payload))
    if fd.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64).map(lambda payload: _length_delimited(fd.number, payload))
    if plausible and fd.type in _VARINT_TYPES:  # proto3's 0 is "unset": mostly not what a client means
        return st.integers(1, 10).map(lambda value: _key(fd.number, VARINT) + _varint(value))
    return _scalar_value(fd).map(lambda value: _key(fd.number, _wire_type(fd)) + value)


def _damaged_field(fd: FieldDescriptor) -> st.SearchStrategy[bytes]:
    """``fd``'s number with a mismatched wire type, or a length prefix that lies."""
    wrong = [w for w in (VARINT, FIXED64, LENGTH, FIXED32) if w != _wire_type(fd)]
    payloads = {
        VARINT: st.integers(0, 2**64 - 1).map(_varint),
        FIXED64: st.binary(min_size=8, max_size=8),
        FIXED32: st.binary(min_size=4, max_size=4),
        LENGTH: st.binary(max_size=16).map(lambda b: _varint(len(b)) + b),
    }
    mismatched = st.sampled_from(wrong).flatmap(lambda w: payloads[w].map(lambda p: _key(fd.number, w) + p))
    lying_length = st.tuples(st.integers(1, 2**40), st.binary(max_size=8)).map(
        lambda t: _key(fd.number, LENGTH) + _varint(t[0] + len(t[1])) + t[1]
    )
    return st.one_of(mismatched, lying_length)


def _unknown_field(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    used = {fd.number for fd in descriptor.fields}
    number = st.integers(1, 2**29 - 1).filter(lambda n: n not in used and not 19000 <= n <= 19999)
    return st.tuples(number, st.binary(max_size=16)).map(lambda t: _length_delimited(t[0], t[1]))


def message_bytes(descriptor: Descriptor, hints: Hints, depth: int = 0) -> st.SearchStrategy[bytes]:
    """The wire bytes of a ``descriptor`` message.

    Half the time hostile (every field maybe present, any value, sometimes
    damaged, unknown fields), half the time plausible (hinted ids, small
    numbers, no damage), so that calls also get past validation into the
    services and the database.
    """
    return st.one_of(_fields(descriptor, hints, depth, False), _fields(descriptor, hints, depth, True))


# Built once per (message, depth, mode, hints): building strategies on every draw costs more than drawing.
_BUILT: dict[tuple[str, int, bool, int], st.SearchStrategy[bytes]] = {}


def _fields(descriptor: Descriptor, hints: Hints, depth: int, plausible: bool) -> st.SearchStrategy[bytes]:
    key = (descriptor.full_name, depth, plausible, id(hints))
    if key not in _BUILT:
        _BUILT[key] = _build_fields(descriptor, hints, depth, plausible)
    return _BUILT[key]


def _build_fields(
    descriptor: Descriptor, hints: Hints, depth: int, plausible: bool
) -> st.SearchStrategy[bytes]:
    parts: list[st.SearchStrategy[list[bytes]]] = []
    oneofs: dict[str, list[st.SearchStrategy[list[bytes]]]] = {}
    for fd in descriptor.fields:
        well_formed = _well_formed_field(fd, hints, depth, plausible)
        occurrence = well_formed if plausible else st.one_of(*[well_formed] * 9, _damaged_field(fd))
        count = 3 if fd.is_repeated else 1
        oneof = fd.containing_oneof
        if plausible and oneof is not None and not oneof.name.startswith("_"):
            oneofs.setdefault(oneof.name, []).append(occurrence.map(lambda b: [b]))  # one member, below
        elif plausible and not fd.is_repeated:  # present three times in four
            present = occurrence.map(lambda b: [b])
            parts.append(st.one_of(st.just([]), present, present, present))
        else:
            parts.append(st.lists(occurrence, max_size=count))
    parts.extend(st.one_of(*members) for members in oneofs.values())
    if not plausible:
        parts.append(st.lists(_unknown_field(descriptor), max_size=1))
    return (
        st.tuples(*parts)
        .flatmap(lambda fields: st.permutations([b for f in fields for b in f]))
        .map(b"".join)
    )


def all_field_names(descriptors: Sequence[Descriptor]) -> list[str]:
    """Every field name of these messages and the messages inside them (filter and mask vocabulary)."""
    seen: set[str] = set()
    names: set[str] = set()
    stack = list(descriptors)
    while stack:
        descriptor = stack.pop()
        if descriptor.full_name in seen:
            continue
        seen.add(descriptor.full_name)
        for fd in descriptor.fields:
            names.add(fd.name)
            if fd.message_type is not None:
                stack.append(fd.message_type)
    return sorted(names)
