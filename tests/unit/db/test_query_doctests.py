"""Every ``>>>`` example in the query builder's and list translator's docstrings holds on its own.

The examples run with nothing but their module's own names, as under
``pytest --doctest-modules`` (the test command runs them that way too): an
example that leans on a name it does not import fails here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import inventory_server.db.listing as listing_package
import inventory_server.db.query as query_package

PACKAGES = (query_package, listing_package)


def _modules() -> list[ModuleType]:
    modules: list[ModuleType] = []
    for package in PACKAGES:
        names = [info.name for info in pkgutil.iter_modules(package.__path__, package.__name__ + ".")]
        modules += [package, *(importlib.import_module(name) for name in sorted(names))]
    return modules


@pytest.mark.parametrize("module", _modules(), ids=lambda m: m.__name__)
def test_docstring_examples_render_the_sql_they_show(module: ModuleType) -> None:
    # No extra globals and no option flags: each example carries its imports and directives.
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(module, module.__name__):
        if test.examples:
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
