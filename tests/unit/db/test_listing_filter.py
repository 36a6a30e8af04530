"""The filter language becomes parameterised conditions, or a precise InvalidArgument."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from inventory_server.db.listing import ResourceFields, parse_filter
from inventory_server.db.query import Params
from inventory_server.domain.errors import InvalidArgument


def translate(text: str, fields: ResourceFields) -> tuple[str, list[Any]]:
    condition = parse_filter(text, fields)
    assert condition is not None
    params = Params()
    return condition.compile(params).as_string(None), params.values


def rejection(text: str, fields: ResourceFields) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        parse_filter(text, fields)
    assert [v.field for v in caught.value.violations] == ["filter"]
    return caught.value


def test_empty_filter_means_no_condition(fields: ResourceFields) -> None:
    assert parse_filter("", fields) is None
    assert parse_filter("   ", fields) is None


@pytest.mark.parametrize(
    ("text", "sql", "params"),
    [
        ('sku = "A-1"', '"sku" = %s', ["A-1"]),
        ("sku != A-1", '"sku" <> %s', ["A-1"]),
        ("qty < 5", '"qty_col" < %s', [5]),
        ("qty <= -5", '"qty_col" <= %s', [-5]),
        ("qty > 1e3", '"qty_col" > %s', [1000]),
        ("qty >= 7", '"qty_col" >= %s', [7]),
        ("active = TRUE", '"active" = %s', [True]),
        ("role = Admin", '"role" = %s', ["admin"]),
        ("name = 'it\\'s'", '"name" = %s', ["it's"]),
        ('name = "say \\"hi\\""', '"name" = %s', ['say "hi"']),
    ],
)
def test_comparisons_bind_typed_values(
    fields: ResourceFields, text: str, sql: str, params: list[Any]
) -> None:
    assert translate(text, fields) == (sql, params)


def test_timestamps_compare_as_aware_datetimes(fields: ResourceFields) -> None:
    quoted = translate('create_time >= "2024-05-01T12:00:00+02:00"', fields)
    bare = translate("create_time >= 2024-05-01T10:00:00Z", fields)
    assert quoted[0] == bare[0] == '"create_time" >= %s'
    assert quoted[1] == bare[1] == [datetime(2024, 5, 1, 10, tzinfo=UTC)]


def test_uuid_values_are_parsed(fields: ResourceFields) -> None:
    owner = uuid.uuid4()
    assert translate(f'owner = "{owner}"', fields) == ('"owner_id" = %s', [owner])


def test_has_operator_is_a_case_insensitive_substring_with_wildcards_escaped(fields: ResourceFields) -> None:
    assert translate('name:"50%_off"', fields) == ('"name" ILIKE %s', ["%50\\%\\_off%"])


def test_map_fields_filter_by_key(fields: ResourceFields) -> None:
    text, params = translate('attributes.color = "red"', fields)
    assert text == '"attributes" @> %s'
    assert isinstance(params[0], Jsonb)
    assert params[0].obj == {"color": "red"}
    assert translate("attributes:color", fields) == ('"attributes" ? %s', ["color"])
    assert translate("attributes.size:XL", fields) == (
        'jsonb_extract_path_text("attributes", %s) ILIKE %s',
        ["size", "%XL%"],
    )
    assert translate('attributes.color != "red"', fields)[0] == 'NOT ("attributes" @> %s)'


def test_or_binds_tighter_than_and_as_in_aip_160(fields: ResourceFields) -> None:
    assert (
        translate("qty = 1 AND qty = 2 OR qty = 3", fields)[0]
        == '"qty_col" = %s AND ("qty_col" = %s OR "qty_col" = %s)'
    )


def test_juxtaposition_means_and_and_parentheses_group(fields: ResourceFields) -> None:
    assert translate("(qty = 1 AND sku = a) OR name = b", fields)[0] == (
        '("qty_col" = %s AND "sku" = %s) OR "name" = %s'
    )
    assert translate("qty = 1 sku = a", fields)[0] == '"qty_col" = %s AND "sku" = %s'


def test_not_and_minus_negate(fields: ResourceFields) -> None:
    assert translate("NOT qty = 1", fields)[0] == 'NOT ("qty_col" = %s)'
    assert translate("-(qty = 1 OR qty = 2)", fields)[0] == 'NOT ("qty_col" = %s OR "qty_col" = %s)'


def test_unknown_field_names_the_token_and_its_position(fields: ResourceFields) -> None:
    error = rejection('sku = "a" AND colour = "red"', fields)
    assert "unknown field 'colour' at position 15" in error.message
    assert "sku" in error.message


def test_a_field_outside_the_filter_allow_list_is_unknown(fields: ResourceFields) -> None:
    assert "unknown field 'secret' at position 1" in rejection("secret = x", fields).message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("qty = many", "value 'many' at position 7 is not a valid int"),
        ("qty = 1.5", "value '1.5' at position 7 is not a valid int"),
        ("qty = 99999999999999999999", "is not a valid int"),
        ("active = yes", "value 'yes' at position 10 is not a valid bool"),
        ('create_time > "2024-05-01"', "is not a valid RFC 3339 timestamp"),
        ('create_time > "2024-05-01T10:00:00"', "is not a valid RFC 3339 timestamp"),
        ("owner = 12", "value '12' at position 9 is not a valid uuid"),
        ("role = root", "one of viewer, admin"),
        ("active > true", "operator '>' at position 8 does not apply to bool field 'active'"),
        ("qty : 1", "operator ':' at position 5 does not apply to int field 'qty'"),
        ("attributes = x", "compare one key of 'attributes'"),
        ("sku.x = 1", "field 'sku' has no sub-fields"),
    ],
)
def test_wrong_typed_values_are_rejected(fields: ResourceFields, text: str, expected: str) -> None:
    assert expected in rejection(text, fields).message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sku =", "expected a value after '=' at position 6, found the end of the filter"),
        ("sku", "expected a comparison operator after 'sku' at position 4"),
        ("(sku = a", "expected ')' to close the '(' at position 1"),
        ("sku = a)", "expected AND, OR or the end of the filter at position 8, found ')'"),
        ('sku = "open', "unterminated string at position 7"),
        ("sku = a @ b", "unexpected character '@' at position 9"),
        ('sku = "\\q"', "unknown escape '\\q' at position 8"),
        ("AND sku = a", "expected a field name or '(' at position 1, found 'AND'"),
        ('"text search"', "expected a field name or '(' at position 1"),
        ("(" * 40 + "sku = a" + ")" * 40, "nested more than 32 levels deep"),
        ("sku = " + "a" * 2100, "longer than 2000 characters"),
    ],
)
def test_bad_syntax_names_the_token_and_position(fields: ResourceFields, text: str, expected: str) -> None:
    assert expected in rejection(text, fields).message
