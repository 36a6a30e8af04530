"""Whether a database's migration history matches the build's migrations (pure logic)."""

from __future__ import annotations

from inventory_server.db.schema import schema_problem

BUILD = frozenset({1, 2, 3})


def test_a_database_at_the_builds_versions_is_ready() -> None:
    assert schema_problem(BUILD, [(3, True), (1, True), (2, True)]) is None


def test_no_history_table_is_an_empty_database() -> None:
    reason = schema_problem(BUILD, None)
    assert reason is not None
    assert "no migration history" in reason
    assert "version 3" in reason


def test_an_empty_history_lists_every_version_as_pending() -> None:
    assert "3 pending migration(s) (1, 2, 3)" in (schema_problem(BUILD, []) or "")


def test_pending_versions_are_named() -> None:
    assert "1 pending migration(s) (3)" in (schema_problem(BUILD, [(1, True), (2, True)]) or "")


def test_a_failed_migration_is_named_before_anything_else() -> None:
    reason = schema_problem(BUILD, [(1, True), (2, False)]) or ""
    assert "failed half-way (2)" in reason


def test_a_database_newer_than_the_build_is_not_ready() -> None:
    reason = schema_problem(BUILD, [(1, True), (2, True), (3, True), (4, True)]) or ""
    assert "does not know (4)" in reason


def test_long_lists_are_cut() -> None:
    reason = schema_problem(frozenset(range(1, 21)), []) or ""
    assert "(1, 2, 3, 4, 5, … 15 more)" in reason
