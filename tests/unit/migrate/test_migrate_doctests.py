"""Every ``>>>`` example in the migration engine's docstrings holds."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import inventory_server.migrate as migrate_package

MODULES = sorted(
    info.name for info in pkgutil.iter_modules(migrate_package.__path__, migrate_package.__name__ + ".")
)


@pytest.mark.parametrize("name", [name for name in MODULES if not name.endswith("__main__")])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
