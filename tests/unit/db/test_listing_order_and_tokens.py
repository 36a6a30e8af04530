"""order_by parsing, page tokens and list plans."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from inventory_server.db.listing import ResourceFields, decode_token, encode_token, parse_order_by, plan_list
from inventory_server.db.listing.fields import FieldSpec, FieldType
from inventory_server.db.query import select
from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.paging import ListQuery


def order_of(text: str, fields: ResourceFields) -> list[tuple[str, str]]:
    return [(spec.name, direction) for spec, direction in parse_order_by(text, fields)]


def rejected(field: str, call: Any, *args: Any) -> str:
    with pytest.raises(InvalidArgument) as caught:
        call(*args)
    assert [v.field for v in caught.value.violations] == [field]
    return caught.value.message


def test_order_by_parses_directions_and_appends_id(fields: ResourceFields) -> None:
    assert order_of("name desc, qty", fields) == [("name", "DESC"), ("qty", "ASC"), ("id", "ASC")]
    assert order_of("  sku  DESC ", fields) == [("sku", "DESC"), ("id", "DESC")]


def test_default_order_applies_when_none_is_given(fields: ResourceFields) -> None:
    assert order_of("", fields) == [("create_time", "ASC"), ("id", "ASC")]


def test_explicit_id_is_not_appended_twice(fields: ResourceFields) -> None:
    assert order_of("id desc", fields) == [("id", "DESC")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name, name desc", "field 'name' appears twice at position 7"),
        ("colour", "cannot sort by 'colour' at position 1"),
        ("active", "cannot sort by 'active'"),
        ("name sideways", "expected 'asc' or 'desc' at position 6, found 'sideways'"),
        ("name desc extra", "unexpected 'extra' at position 11"),
        ("name,", "empty sort key at position 6"),
    ],
)
def test_bad_order_by_is_rejected_with_position(fields: ResourceFields, text: str, expected: str) -> None:
    assert expected in rejected("order_by", parse_order_by, text, fields)


def test_page_tokens_round_trip_typed_cursor_values(fields: ResourceFields) -> None:
    specs = [spec for spec, _ in parse_order_by("create_time desc, qty", fields)]
    values = [datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC), 42, uuid.uuid4()]
    token = encode_token("fp", specs, values)
    assert all(c.isalnum() or c in "-_" for c in token)
    assert decode_token(token, "fp", specs) == values


@pytest.mark.parametrize("token", ["not base64!!", "e30", "W10", "eyJmIjoiZnAiLCJrIjpbMV19", "x" * 5000])
def test_garbled_page_tokens_are_invalid_arguments(fields: ResourceFields, token: str) -> None:
    specs = [spec for spec, _ in parse_order_by("qty", fields)]
    message = rejected("page_token", decode_token, token, "fp", specs)
    assert "page token" in message


def test_a_token_with_wrong_value_types_is_rejected(fields: ResourceFields) -> None:
    qty_specs = [spec for spec, _ in parse_order_by("qty", fields)]
    name_specs = [spec for spec, _ in parse_order_by("name", fields)]
    token = encode_token("fp", name_specs, ["Bolt", uuid.uuid4()])
    assert "page token" in rejected("page_token", decode_token, token, "fp", qty_specs)


def test_plan_fetches_one_extra_row_and_hides_deleted_rows(fields: ResourceFields) -> None:
    plan = plan_list(fields, ListQuery(page_size=3, filter="qty > 1"))
    query, params = plan.apply(select("id").from_("things")).build()
    assert query.as_string(None) == (
        'SELECT "id" FROM "things" WHERE "qty_col" > %s AND "delete_time" IS NULL '
        'ORDER BY "create_time" ASC, "id" ASC LIMIT %s'
    )
    assert params == [1, 4]
    shown = plan_list(fields, ListQuery(page_size=3, show_deleted=True))
    assert "delete_time" not in shown.apply(select("id").from_("things")).as_string()


def _rows(n: int) -> list[dict[str, Any]]:
    return [
        {"id": uuid.UUID(int=i), "qty_col": i % 2, "create_time": datetime(2024, 1, 1, tzinfo=UTC)}
        for i in range(n)
    ]


def test_split_returns_a_token_only_when_there_is_another_page(fields: ResourceFields) -> None:
    plan = plan_list(fields, ListQuery(page_size=2, order_by="qty desc"))
    assert plan.split(_rows(2)) == (_rows(2), "")
    page, token = plan.split(_rows(3))
    assert page == _rows(2)
    assert token
    follow = plan_list(fields, ListQuery(page_size=2, order_by="qty desc", page_token=token))
    query, params = follow.apply(select("id").from_("things")).build()
    assert '("qty_col", "id") < (%s, %s)' in query.as_string(None)
    assert params[:2] == [1, uuid.UUID(int=1)]


@pytest.mark.parametrize(
    "changed",
    [
        {"filter": "qty > 2"},
        {"order_by": "qty"},
        {"show_deleted": True},
    ],
)
def test_a_token_is_refused_when_the_listing_changes(fields: ResourceFields, changed: dict[str, Any]) -> None:
    first = ListQuery(page_size=2, filter="qty > 1", order_by="qty desc", show_deleted=False)
    _, token = plan_list(fields, first).split(_rows(3))
    later = dataclasses.replace(first, page_token=token, **changed)
    message = rejected("page_token", plan_list, fields, later)
    assert "different filter" in message


def test_a_token_is_refused_when_extra_parameters_change(fields: ResourceFields) -> None:
    query = ListQuery(page_size=2)
    _, token = plan_list(fields, query, extra={"warehouse": "a"}).split(_rows(3))
    again = ListQuery(page_size=2, page_token=token)
    assert plan_list(fields, again, extra={"warehouse": "a"}).where is not None
    message = rejected("page_token", lambda: plan_list(fields, again, extra={"warehouse": "b"}))
    assert "different" in message


def test_page_size_may_change_between_pages(fields: ResourceFields) -> None:
    _, token = plan_list(fields, ListQuery(page_size=2)).split(_rows(3))
    assert plan_list(fields, ListQuery(page_size=10, page_token=token)).page_size == 10


def _raw_token(payload_json: str) -> str:
    """A token as a forger would build one: any JSON text, base64url without padding."""
    return base64.urlsafe_b64encode(payload_json.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("payload", "sort"),
    [
        ('{"f":"fp","k":' + "[" * 1500 + "]" * 1500 + "}", "int"),  # RecursionError in json
        ('{"f":"fp","k":["\\ud800"]}', "text"),  # a lone surrogate: not encodable for PostgreSQL
        ('{"f":"fp","k":["a\\u0000b"]}', "text"),  # NUL: PostgreSQL text cannot hold it
        ('{"f":"fp","k":[9223372036854775808]}', "int"),  # beyond bigint
        ('{"f":"fp","k":[-9223372036854775809]}', "int"),
        ('{"f":"fp","k":[' + "9" * 4301 + "]}", "int"),  # beyond int()'s digit limit
        ('{"f":"fp","k":["275760-09-13T00:00:00+00:00"]}', "timestamp"),
        ('{"f":"fp","k":[1e999]}', "int"),
    ],
)
def test_hostile_token_payloads_are_invalid_arguments(payload: str, sort: FieldType) -> None:
    spec = FieldSpec("v", "v", sort, sortable=True)
    message = rejected("page_token", decode_token, _raw_token(payload), "fp", [spec])
    assert "page token" in message
