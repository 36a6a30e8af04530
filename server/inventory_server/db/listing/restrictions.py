"""One restriction of a filter (``field op value``) turned into a builder condition.

The value is converted to the field's type first, so a wrong-typed value is
reported as the user's mistake and never reaches PostgreSQL as text.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from inventory_server.db.listing.errors import at, invalid
from inventory_server.db.listing.fields import FieldSpec
from inventory_server.db.listing.lexer import Token
from inventory_server.db.query import ComparisonOp, Condition, Expr, Func, Param, escape_like, not_

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_ORDERING_OPS = ("<", "<=", ">", ">=")
_SQL_OPERATORS: dict[str, ComparisonOp] = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "text": ("=", "!=", *_ORDERING_OPS, ":"),
    "int": ("=", "!=", *_ORDERING_OPS),
    "timestamp": ("=", "!=", *_ORDERING_OPS),
    "bool": ("=", "!="),
    "uuid": ("=", "!="),
    "enum": ("=", "!="),
}


def restriction(spec: FieldSpec, key: str | None, op: Token, value: Token) -> Condition:
    """The condition for ``spec[.key] op value``."""
    if spec.type == "json":
        return _json_restriction(spec, key, op, value)
    if key is not None:
        raise invalid(
            "filter", f"field {spec.name!r} has no sub-fields (before the operator {at(op.position)})"
        )
    if op.text not in _OPS_BY_TYPE[spec.type]:
        where = at(op.position)
        raise invalid(
            "filter", f"operator {op.text!r} {where} does not apply to {spec.type} field {spec.name!r}"
        )
    if op.text == ":":
        return spec.expr.ilike("%" + escape_like(value.text) + "%")
    return _compare(spec.expr, op.text, typed_value(spec, value))


def _compare(expr: Expr, op: str, value: Any) -> Condition:
    return expr.compare(_SQL_OPERATORS[op], value)


def typed_value(spec: FieldSpec, token: Token) -> Any:
    """``token`` converted to the Python value for ``spec``'s type; InvalidArgument if it isn't one."""
    text = token.text
    try:
        if spec.type == "text":
            return text
        if spec.type == "int":
            return _integer(text)
        if spec.type == "bool":
            return {"true": True, "false": False}[text.lower()]
        if spec.type == "timestamp":
            return _timestamp(text)
        if spec.type == "uuid":
            return uuid.UUID(text)
        if spec.type == "enum":
            return {v.lower(): v for v in spec.enum_values}[text.lower()]
    except (ValueError, KeyError):
        pass
    raise invalid("filter", f"{_describe(token)} {at(token.position)} is not a valid {_expected(spec)}")


def _integer(text: str) -> int:
    number = float(text) if any(c in text for c in ".eE") else int(text)
    if isinstance(number, float):
        if not math.isfinite(number) or not number.is_integer():
            raise ValueError(text)
        number = int(number)
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError(text)
    return number


def _timestamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    if "T" not in text.upper() or moment.tzinfo is None:
        raise ValueError("an RFC 3339 timestamp needs a time and a UTC offset")
    return moment


def _describe(token: Token) -> str:
    shown = token.text if len(token.text) <= 40 else token.text[:37] + "..."
    return f"value {shown!r}"


def _expected(spec: FieldSpec) -> str:
    if spec.type == "timestamp":
        return f'RFC 3339 timestamp for {spec.name!r} (e.g. "2024-05-01T12:00:00Z")'
    if spec.type == "enum":
        return f"value for {spec.name!r} (one of {', '.join(spec.enum_values)})"
    return f"{spec.type} for {spec.name!r}"


def _json_restriction(spec: FieldSpec, key: str | None, op: Token, value: Token) -> Condition:
    """Map fields: ``m.k = v`` contains, ``m:k`` has key k, ``m.k:v`` substring, ``m.k < v`` text order."""
    if key is None:
        if op.text != ":":
            example = f'{spec.name}.key = "v"'
            raise invalid("filter", f"compare one key of {spec.name!r}, as in {example} ({at(op.position)})")
        return spec.expr.has_key(value.text)
    if not key:
        raise invalid("filter", f"empty key for {spec.name!r} {at(op.position)}")
    if op.text == "=":
        return spec.expr.contains(Jsonb({key: value.text}))
    if op.text == "!=":
        return not_(spec.expr.contains(Jsonb({key: value.text})))
    member = Func("jsonb_extract_path_text", (spec.expr, Param(key)))
    if op.text == ":":
        return member.ilike("%" + escape_like(value.text) + "%")
    return _compare(member, op.text, value.text)
