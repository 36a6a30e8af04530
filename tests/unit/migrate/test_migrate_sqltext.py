"""Parsing SQL migration files: sections, directives and statement splitting."""

from __future__ import annotations

import pytest

from inventory_server.migrate.errors import MigrationFileError
from inventory_server.migrate.sqltext import parse_sql_migration, split_statements


def texts(sql: str) -> list[str]:
    return [statement.text for statement in split_statements(sql)]


def test_semicolons_inside_strings_identifiers_and_comments_do_not_split() -> None:
    sql = """
    INSERT INTO t VALUES ('a;b', 'it''s; fine');
    SELECT "odd;name" FROM t; -- trailing; comment
    /* block; /* nested; */ still comment; */ SELECT 2;
    """
    assert texts(sql) == [
        "INSERT INTO t VALUES ('a;b', 'it''s; fine')",
        'SELECT "odd;name" FROM t',
        "SELECT 2",
    ]


def test_dollar_quoted_function_body_stays_one_statement() -> None:
    sql = """
    CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
        RAISE EXCEPTION 'no; way $$ here';
    END;
    $body$;
    SELECT $$a;b$$, $1$x;
    """
    statements = texts(sql)
    assert len(statements) == 2
    assert statements[0].startswith("CREATE FUNCTION f()")
    assert statements[0].endswith("$body$")
    assert statements[1] == "SELECT $$a;b$$, $1$x"


def test_escape_string_backslash_quote_does_not_end_the_string() -> None:
    assert texts(r"SELECT E'a\';b'; SELECT 1") == [r"SELECT E'a\';b'", "SELECT 1"]


def test_statement_line_numbers_are_file_lines() -> None:
    statements = split_statements("\n-- c\nSELECT 1;\n\nSELECT\n  2;", first_line=10)
    assert [(s.text, s.line) for s in statements] == [("SELECT 1", 12), ("SELECT\n  2", 14)]


def test_comment_only_text_has_no_statements() -> None:
    assert texts("-- nothing here\n/* nor here */\n  ;  ;") == []


@pytest.mark.parametrize("sql", ["SELECT 'open", 'SELECT "open', "SELECT $x$ open", "SELECT /* open"])
def test_unterminated_literals_are_reported_with_their_line(sql: str) -> None:
    with pytest.raises(MigrationFileError, match=r"f\.sql:3: unterminated"):
        split_statements(sql, first_line=3, filename="f.sql")


def test_sections_and_transaction_flag() -> None:
    parsed = parse_sql_migration(
        "-- header\n-- migrate:no-transaction\n-- migrate:up\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
        "-- migrate:down\nDROP INDEX CONCURRENTLY i;\n"
    )
    assert parsed.transactional is False
    assert [(s.text, s.line) for s in parsed.up] == [("CREATE INDEX CONCURRENTLY i ON t (a)", 4)]
    assert parsed.down is not None
    assert [(s.text, s.line) for s in parsed.down] == [("DROP INDEX CONCURRENTLY i", 6)]


def test_missing_down_line_means_irreversible_but_empty_down_means_no_op() -> None:
    irreversible = parse_sql_migration("-- migrate:up\nSELECT 1;\n")
    no_op = parse_sql_migration("-- migrate:up\nSELECT 1;\n-- migrate:down\n-- nothing to undo\n")
    assert irreversible.down is None
    assert no_op.down == []
    assert irreversible.transactional is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1;\n-- migrate:up\n", "SQL before the '-- migrate:up' line"),
        ("-- migrate:down\nSELECT 1;\n", "before '-- migrate:up'"),
        ("-- migrate:up\n-- migrate:up\n", "a second '-- migrate:up'"),
        ("-- migrate:up\n-- migrate:sideways\n", "unknown directive"),
        ("-- migrate:up\n-- migrate:no-transaction\n", "must come before"),
        ("-- just a comment\n", "no '-- migrate:up' line"),
    ],
)
def test_malformed_files_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(MigrationFileError, match=message):
        parse_sql_migration(text, "0009_bad.sql")
