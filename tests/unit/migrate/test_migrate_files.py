"""Finding migration files, naming rules, checksums and templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory_server.migrate.errors import MigrationFileError, UsageError
from inventory_server.migrate.files import MigrationKind, checksum_of, discover
from inventory_server.migrate.templates import create_migration, slugify

UP = "-- migrate:up\nSELECT 1;\n"


def write(directory: Path, name: str, text: str = UP) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_discover_orders_numerically_and_ignores_other_files(tmp_path: Path) -> None:
    write(tmp_path, "10_later.sql")
    write(tmp_path, "0002_second_step.py", "def up(conn):\n    pass\n")
    write(tmp_path, "0001_first.sql")
    write(tmp_path, "README.md", "not a migration")
    write(tmp_path, "__init__.py", "")
    found = discover(tmp_path)
    assert [(m.version, m.description, m.kind) for m in found] == [
        (1, "first", MigrationKind.SQL),
        (2, "second step", MigrationKind.PYTHON),
        (10, "later", MigrationKind.SQL),
    ]


def test_duplicate_versions_and_bad_names_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "0001_a.sql")
    write(tmp_path, "1_b.py", "def up(conn):\n    pass\n")
    write(tmp_path, "add_things.sql")
    with pytest.raises(MigrationFileError) as raised:
        discover(tmp_path)
    text = str(raised.value)
    assert "version 1 is also used by" in text
    assert "add_things.sql: name must look like" in text


def test_checksum_ignores_crlf_but_sees_real_edits(tmp_path: Path) -> None:
    unix = tmp_path / "a.sql"
    unix.write_bytes(b"-- migrate:up\nSELECT 1;\n")
    windows = tmp_path / "b.sql"
    windows.write_bytes(b"-- migrate:up\r\nSELECT 1;\r\n")
    edited = tmp_path / "c.sql"
    edited.write_bytes(b"-- migrate:up\nSELECT 2;\n")
    assert checksum_of(unix) == checksum_of(windows)
    assert checksum_of(unix) != checksum_of(edited)


def test_python_migration_reports_import_errors_and_missing_functions(tmp_path: Path) -> None:
    broken = discover_one(tmp_path, "0001_broken.py", "raise RuntimeError('boom')\n")
    with pytest.raises(MigrationFileError, match=r"0001_broken\.py: import failed: RuntimeError: boom"):
        broken.check()
    no_down = discover_one(tmp_path / "b", "0001_no_down.py", "def up(conn):\n    pass\n")
    assert no_down.reversible is False
    assert no_down.transactional is True


def discover_one(directory: Path, name: str, text: str):  # type: ignore[no-untyped-def]
    directory.mkdir(exist_ok=True)
    write(directory, name, text)
    (found,) = discover(directory)
    return found


def test_slugify_makes_file_name_safe_descriptions() -> None:
    assert slugify("Add SKU index!") == "add_sku_index"
    assert slugify("  --  ") == ""


def test_create_numbers_after_the_highest_version_and_keeps_the_padding(tmp_path: Path) -> None:
    write(tmp_path, "000007_old.sql")
    sql_path = create_migration(tmp_path, "Add the thing")
    py_path = create_migration(tmp_path, 'Seed "data"', python=True)
    assert sql_path.name == "000008_add_the_thing.sql"
    assert py_path.name == "000009_seed_data.py"
    assert [m.version for m in discover(tmp_path)] == [7, 8, 9]
    for migration in discover(tmp_path)[1:]:
        migration.check()
        assert migration.reversible


def test_create_refuses_a_taken_version_or_an_empty_description(tmp_path: Path) -> None:
    write(tmp_path, "0003_taken.sql")
    with pytest.raises(UsageError, match=r"already used by 0003_taken\.sql"):
        create_migration(tmp_path, "again", version=3)
    with pytest.raises(UsageError, match="letters or digits"):
        create_migration(tmp_path, "!!!")
