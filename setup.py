"""Build hook: the top-level ``migrations/`` folder ships inside the wheel as package data.

All other packaging settings live in pyproject.toml. ``migrations/`` stays the
one source of truth (it is what the Dockerfile, the tests and the docs point
at); at build time its ``.sql``/``.py`` files are copied to
``inventory_server/migrations/`` in the build tree, so an installed package
finds them (``inventory_server.migrate.DEFAULT_MIGRATIONS_DIR``) without a
checkout. A build without the folder fails instead of producing a wheel that
could not migrate. Editable installs skip the copy: they read the checkout's
folder directly. ``tests/unit/deploy/test_container_image.py`` builds the
wheel and checks both the content and that the installed code finds it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SOURCE = Path(__file__).resolve().parent / "migrations"
PACKAGE_FOLDER = ("inventory_server", "migrations")


class BuildPyWithMigrations(build_py):
    """``build_py`` that also copies the migration files into the package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        files = (
            sorted(
                p
                for p in SOURCE.glob("*")
                if p.is_file() and p.suffix in (".sql", ".py") and p.name[0] not in "_."
            )
            if SOURCE.is_dir()
            else []
        )
        if not files:
            raise SystemExit(f"setup.py: no migrations in {SOURCE}: the wheel would not be able to migrate")
        target = Path(self.build_lib).joinpath(*PACKAGE_FOLDER)
        if target.exists():
            shutil.rmtree(target)  # a stale build/ must not keep a deleted migration
        target.mkdir(parents=True)
        for path in files:
            self.copy_file(str(path), str(target / path.name))


setup(cmdclass={"build_py": BuildPyWithMigrations})
