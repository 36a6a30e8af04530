"""Comparing files with history: states and the problems that block a run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from inventory_server.migrate.files import MigrationFile, MigrationKind
from inventory_server.migrate.history import AppliedMigration
from inventory_server.migrate.plan import State, compare, pending, problems


def file(version: int, checksum: str = "c") -> MigrationFile:
    return MigrationFile(
        version, f"m{version}", MigrationKind.SQL, Path(f"{version:04d}_m{version}.sql"), checksum
    )


def row(
    version: int, checksum: str = "c", *, success: bool = True, rank: int | None = None
) -> AppliedMigration:
    return AppliedMigration(
        version,
        f"m{version}",
        "sql",
        checksum,
        datetime(2024, 1, 1, tzinfo=UTC),
        5,
        "me@host",
        success,
        False,
        rank if rank is not None else version,
    )


def states(entries: list) -> list[tuple[int, State, bool]]:  # type: ignore[type-arg]
    return [(e.version, e.state, e.out_of_order) for e in entries]


def test_each_version_gets_its_state() -> None:
    entries = compare(
        [file(1), file(2, "new"), file(4), file(5)],
        [row(1), row(2, "old"), row(3), row(5, success=False)],
    )
    assert states(entries) == [
        (1, State.APPLIED, False),
        (2, State.CHANGED, False),
        (3, State.MISSING, False),
        (4, State.PENDING, False),
        (5, State.FAILED, False),
    ]


def test_pending_below_the_latest_applied_is_out_of_order_and_blocks_unless_allowed() -> None:
    entries = compare([file(1), file(2), file(3)], [row(1), row(3)])
    assert states(entries)[1] == (2, State.PENDING, True)
    found = problems(entries)
    assert len(found) == 1
    assert "below the latest applied version 3" in found[0]
    assert problems(entries, allow_out_of_order=True) == []


def test_changed_file_problem_names_both_checksums() -> None:
    (found,) = problems(compare([file(1, "aaa111")], [row(1, "bbb222")]))
    assert "0001_m1.sql" in found
    assert "aaa111" in found
    assert "bbb222" in found


def test_missing_and_failed_rows_are_problems() -> None:
    found = problems(compare([], [row(1), row(2, success=False)]))
    assert len(found) == 2
    assert "file is missing" in found[0]
    assert "repair" in found[1]


def test_pending_respects_the_target() -> None:
    entries = compare([file(1), file(2), file(3)], [row(1)])
    assert [m.version for m in pending(entries)] == [2, 3]
    assert [m.version for m in pending(entries, target=2)] == [2]
