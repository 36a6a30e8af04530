"""Printing ``status``: a table for people, JSON for scripts."""

from __future__ import annotations

import json
from typing import Any

from inventory_server.migrate.plan import State, StatusEntry, problems


def status_as_dicts(entries: list[StatusEntry]) -> list[dict[str, Any]]:
    """One JSON-ready dict per version."""
    rows: list[dict[str, Any]] = []
    for entry in entries:
        applied = entry.applied
        rows.append(
            {
                "version": entry.version,
                "description": entry.description,
                "state": str(entry.state),
                "out_of_order": entry.out_of_order,
                "file": entry.file.name if entry.file else None,
                "kind": str(entry.file.kind) if entry.file else (applied.kind if applied else None),
                "file_checksum": entry.file.checksum if entry.file else None,
                "applied_checksum": applied.checksum if applied else None,
                "applied_at": applied.applied_at.isoformat() if applied else None,
                "execution_ms": applied.execution_ms if applied else None,
                "applied_by": applied.applied_by if applied else None,
                "baseline": applied.baseline if applied else False,
            }
        )
    return rows


def render_table(entries: list[StatusEntry]) -> str:
    """A fixed-width table: version, state, applied at, duration, file or description."""
    header = ("VERSION", "STATE", "APPLIED AT", "MS", "MIGRATION")
    lines = [header]
    for entry in entries:
        state = str(entry.state)
        if entry.out_of_order:
            state += " (out of order)"
        if entry.applied and entry.applied.baseline:
            state += " (baseline)"
        applied = entry.applied
        lines.append(
            (
                str(entry.version),
                state,
                f"{applied.applied_at:%Y-%m-%d %H:%M:%S}" if applied else "",
                str(applied.execution_ms) if applied else "",
                entry.file.name if entry.file else entry.description,
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in lines
    )


def format_status(entries: list[StatusEntry], *, as_json: bool, allow_out_of_order: bool = False) -> str:
    """The status of every version, then a summary line and the problems (or the JSON document)."""
    found = problems(entries, allow_out_of_order=allow_out_of_order)
    counts = {state: sum(1 for e in entries if e.state is state) for state in State}
    if as_json:
        document = {
            "migrations": status_as_dicts(entries),
            "counts": {str(state): count for state, count in counts.items()},
            "problems": found,
        }
        return json.dumps(document, indent=2)
    lines = [render_table(entries), ", ".join(f"{count} {state}" for state, count in counts.items())]
    lines += [f"problem: {problem}" for problem in found]
    return "\n".join(lines)
