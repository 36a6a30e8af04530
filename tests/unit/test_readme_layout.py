"""The README's layout table names every folder and module a newcomer meets, and links every document."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server" / "inventory_server"
# Made by tools, never committed (see .gitignore).
GENERATED = {"node_modules", "build", "dist"}


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _layout_cells() -> list[str]:
    """The first cell of every row of the layout table."""
    rows = [line for line in _section("Layout").splitlines() if line.startswith("| ")]
    return [row.split("|")[1] for row in rows[1:]]


def _layout_paths() -> set[str]:
    return {path for cell in _layout_cells() for path in re.findall(r"`([^`]+)`", cell)}


def test_every_top_level_folder_is_in_the_layout() -> None:
    folders = {
        p.name
        for p in ROOT.iterdir()
        if p.is_dir()
        and not p.name.startswith(".")
        and p.name not in GENERATED
        and not p.name.endswith(".egg-info")
    }
    listed = {path.split("/")[0] for path in _layout_paths()}
    assert folders - listed == set()


def test_every_server_package_is_in_the_layout() -> None:
    packages = {p.name for p in SERVER.iterdir() if (p / "__init__.py").is_file()}
    listed = {
        m.group(1) for path in _layout_paths() if (m := re.match(r"server/inventory_server/(\w+)/$", path))
    }
    assert packages - listed == set()


def test_every_top_level_server_module_is_named_in_the_layout() -> None:
    modules = {p.name for p in SERVER.glob("*.py") if p.name != "__init__.py"}
    section = _section("Layout")
    assert {name for name in modules if f"`{name}`" not in section} == set()


def test_every_document_is_linked_from_the_documentation_table() -> None:
    documents = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    linked = set(re.findall(r"\]\((docs/[^)]+\.md)\)", _section("Documentation")))
    assert documents - linked == set()
