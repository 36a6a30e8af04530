"""Property tests: any filter text yields conditions or a clean InvalidArgument, and never SQL text."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from inventory_server.db.listing import ResourceFields, parse_filter
from inventory_server.db.query import Params, escape_like
from inventory_server.domain.errors import InvalidArgument

FRAGMENTS = [
    "sku",
    "name",
    "qty",
    "active",
    "create_time",
    "owner",
    "role",
    "attributes",
    "attributes.color",
    "secret",
    "id",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    ":",
    "AND",
    "OR",
    "NOT",
    "-",
    "(",
    ")",
    '"',
    "'",
    "\\",
    "true",
    "42",
    "-7",
    "1.5",
    "2024-05-01T10:00:00Z",
    '"2024-05-01T10:00:00+02:00"',
    "admin",
    '"x y"',
    "'; DROP TABLE things; --",
    "%",
    "_",
    "*",
]
filter_like = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=12).map(" ".join)

QUOTED_IDENTIFIER = re.compile(r'"(?:[^"]|"")*"')
SQL_VOCABULARY = {
    "AND",
    "OR",
    "NOT",
    "ILIKE",
    "IS",
    "NULL",
    "TRUE",
    "FALSE",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "@>",
    "?",
    "(",
    ")",
    ",",
    "%s",
    "jsonb_extract_path_text",
}


def sql_of(text: str, fields: ResourceFields) -> str | None:
    """The SQL for ``text``, or None when it is empty or rejected (with a clean InvalidArgument)."""
    rejection: InvalidArgument | None = None
    try:
        condition = parse_filter(text, fields)
    except InvalidArgument as error:
        rejection, condition = error, None
    if rejection is not None:
        assert [v.field for v in rejection.violations] == ["filter"]
        assert rejection.message.startswith("filter: ")
    return None if condition is None else condition.compile(Params()).as_string(None)


def assert_only_allowed_sql(sql: str, fields: ResourceFields) -> None:
    columns = {f'"{spec.column}"' for spec in fields.fields} | {f'"{spec.column}"' for spec in fields.key}
    for identifier in QUOTED_IDENTIFIER.findall(sql):
        assert identifier in columns
    rest = QUOTED_IDENTIFIER.sub(" ", sql)
    words = re.findall(r"%s|[A-Za-z_]+|<>|<=|>=|@>|[^\sA-Za-z_]", rest)
    assert set(words) <= SQL_VOCABULARY, words


# The fixture is an immutable allow-list, so sharing it across examples is safe.
SHARED_FIXTURE = [HealthCheck.function_scoped_fixture]


@settings(max_examples=400, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(st.text(max_size=80) | filter_like)
def test_any_text_gives_conditions_or_a_clean_invalid_argument(fields: ResourceFields, text: str) -> None:
    sql = sql_of(text, fields)
    if sql is not None:
        assert_only_allowed_sql(sql, fields)


values = st.text(min_size=1, max_size=30).filter(lambda v: v.strip() == v and len(v) >= 3)


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@settings(max_examples=300, deadline=None, suppress_health_check=SHARED_FIXTURE)
@given(value=values, op=st.sampled_from(["=", "!=", "<", ">=", ":"]), field=st.sampled_from(["sku", "name"]))
def test_user_values_travel_only_as_parameters(
    fields: ResourceFields, value: str, op: str, field: str
) -> None:
    condition = parse_filter(f"{field} {op} {quoted(value)} OR attributes.k = {quoted(value)}", fields)
    assert condition is not None
    params = Params()
    sql = condition.compile(params).as_string(None)
    assert value not in QUOTED_IDENTIFIER.sub(" ", sql).replace("%s", "")
    assert_only_allowed_sql(sql, fields)
    bound = [v for p in params.values for v in (p.obj.values() if isinstance(p, Jsonb) else [p])]
    assert {value, "%" + escape_like(value) + "%"} & set(bound)
    assert [p.obj for p in params.values if isinstance(p, Jsonb)] == [{"k": value}]
