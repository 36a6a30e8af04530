"""The layer rules in pyproject.toml (``[tool.importlinter]``) hold, and a forbidden import breaks them.

Each case copies the server package to a temporary folder, adds one import
that a contract forbids, and runs ``lint-imports`` over the copy with the
project's own configuration: it must fail and name the broken contract. So
the CI step (``lint-imports`` in scripts/test.sh) cannot pass by accident,
for example with a contract that names a module that does not exist.
"""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import inventory_server

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = ROOT / "pyproject.toml"
PACKAGE = Path(inventory_server.__file__).parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def contracts() -> list[dict[str, Any]]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    found: list[dict[str, Any]] = config["contracts"]
    return found


def contract(prefix: str) -> dict[str, Any]:
    [found] = [c for c in contracts() if c["name"].startswith(prefix)]
    return found


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` in ``folder`` (its pyproject.toml), over the ``inventory_server`` found there."""
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent if folder == ROOT else folder)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_real_package_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_no_contract_has_an_escape_hatch() -> None:
    assert all("ignore_imports" not in c for c in contracts())


def test_the_domain_contract_forbids_every_other_module_of_the_server() -> None:
    others = {f"inventory_server.{info.name}" for info in pkgutil.iter_modules(inventory_server.__path__)} - {
        "inventory_server.domain"
    }
    assert set(contract("domain")["forbidden_modules"]) == others


# (module that gains the import, the import, the contract that must break)
FORBIDDEN = [
    ("domain/product.py", "import inventory_server.config", "domain"),
    ("db/database.py", "import inventory_server.repositories.products", "db"),
    ("db/query/select.py", "import inventory_server.cache.product_cache", "db"),
    ("repositories/products.py", "import inventory_server.services.products", "repositories"),
    ("services/products.py", "import inventory_server.api.errors", "services"),
    ("api/products.py", "import inventory_server.repositories.products", "api"),
    ("api/convert.py", "from inventory_server.db import database", "api"),
    ("api/stats.py", "import inventory_server.app", "api"),
    ("migrate/engine.py", "import inventory_server.services.products", "migrate"),
]


@pytest.mark.parametrize(("module", "statement", "broken"), FORBIDDEN, ids=[f[0] for f in FORBIDDEN])
def test_a_forbidden_import_fails_the_check(tmp_path: Path, module: str, statement: str, broken: str) -> None:
    copy = tmp_path / "inventory_server"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text() + f"\n{statement}  # added by the test\n")
    shutil.copy(PYPROJECT, tmp_path / "pyproject.toml")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert f"{contract(broken)['name']} BROKEN" in result.stdout
