"""Comparing migration files with the history table (pure logic, no I/O).

Every version known to either side gets one StatusEntry whose state says
what to do about it; ``problems`` turns the entries into the list of reasons
why ``migrate`` must not run.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from inventory_server.migrate.files import MigrationFile
from inventory_server.migrate.history import AppliedMigration


class State(enum.StrEnum):
    """Where one version stands."""

    APPLIED = "applied"  # in history, file unchanged
    PENDING = "pending"  # file not yet applied
    CHANGED = "changed"  # applied, but the file's checksum differs
    MISSING = "missing"  # applied, but the file is gone
    FAILED = "failed"  # a non-transactional migration failed half-way; needs repair


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """One version as seen by files and history."""

    version: int
    description: str
    state: State
    file: MigrationFile | None
    applied: AppliedMigration | None
    out_of_order: bool = False

    @property
    def label(self) -> str:
        """The file name when there is a file, else the version and description."""
        return self.file.name if self.file else f"version {self.version} ({self.description})"


def compare(files: list[MigrationFile], applied: list[AppliedMigration]) -> list[StatusEntry]:
    """One entry per version, ordered by version."""
    by_version = {row.version: row for row in applied}
    files_by_version = {f.version: f for f in files}
    latest = max((row.version for row in applied if row.success), default=None)
    entries: list[StatusEntry] = []
    for version in sorted(by_version.keys() | files_by_version.keys()):
        file = files_by_version.get(version)
        row = by_version.get(version)
        if row is None and file is not None:
            late = latest is not None and version < latest
            entries.append(StatusEntry(version, file.description, State.PENDING, file, None, late))
            continue
        if row is None:
            continue  # unreachable: the version came from one of the two sides
        if not row.success:
            state = State.FAILED
        elif file is None:
            state = State.MISSING
        elif file.checksum != row.checksum:
            state = State.CHANGED
        else:
            state = State.APPLIED
        entries.append(StatusEntry(version, row.description, state, file, row))
    return entries


def problems(entries: list[StatusEntry], *, allow_out_of_order: bool = False) -> list[str]:
    """Every reason that blocks ``migrate``, one line each (empty: all is well)."""
    found: list[str] = []
    latest = max((e.version for e in entries if e.applied and e.applied.success), default=0)
    for entry in entries:
        if entry.state is State.CHANGED and entry.file and entry.applied:
            found.append(
                f"{entry.label}: changed after it was applied (applied checksum {entry.applied.checksum}, "
                f"file checksum {entry.file.checksum}); restore the applied version of the file and put "
                "the change in a new migration"
            )
        elif entry.state is State.MISSING:
            found.append(f"{entry.label}: applied, but its file is missing; restore the file")
        elif entry.state is State.FAILED and entry.applied:
            found.append(
                f"{entry.label}: failed at {entry.applied.applied_at:%Y-%m-%d %H:%M:%S%z} "
                "(non-transactional, may be partly applied); inspect and clean up the database, "
                "then run 'inventory-migrate repair'"
            )
        elif entry.out_of_order and not allow_out_of_order:
            found.append(
                f"{entry.label}: version {entry.version} is below the latest applied version {latest}; "
                "give it a higher version, or pass --allow-out-of-order"
            )
    return found


def pending(entries: list[StatusEntry], *, target: int | None = None) -> list[MigrationFile]:
    """The files to apply, in version order, up to and including ``target``."""
    return [
        e.file
        for e in entries
        if e.state is State.PENDING and e.file is not None and (target is None or e.version <= target)
    ]
