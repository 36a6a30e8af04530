"""Every ``>>>`` example in the query builder's and list translator's docstrings holds."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType
from typing import Any

import pytest

import inventory_server.db.listing as listing_package
import inventory_server.db.query as query_package
from inventory_server.domain.paging import ListQuery

PACKAGES = (query_package, listing_package)


def _modules() -> list[ModuleType]:
    modules: list[ModuleType] = []
    for package in PACKAGES:
        names = [info.name for info in pkgutil.iter_modules(package.__path__, package.__name__ + ".")]
        modules += [package, *(importlib.import_module(name) for name in sorted(names))]
    return modules


def _globals() -> dict[str, Any]:
    names: dict[str, Any] = {"ListQuery": ListQuery}
    for package in PACKAGES:
        names.update({name: getattr(package, name) for name in package.__all__})
    return names


@pytest.mark.parametrize("module", _modules(), ids=lambda m: m.__name__)
def test_docstring_examples_render_the_sql_they_show(module: ModuleType) -> None:
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    tests = [t for t in finder.find(module, module.__name__, extraglobs=_globals()) if t.examples]
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_every_builder_module_documents_its_sql() -> None:
    undocumented = [
        m.__name__
        for m in _modules()
        if m.__name__.startswith(query_package.__name__)
        and not any(t.examples for t in doctest.DocTestFinder().find(m, m.__name__))
    ]
    assert undocumented == []
