"""Every ``>>>`` example in the query builder's docstrings renders exactly the SQL it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import inventory_server.db.query as query_package


def _modules() -> list[ModuleType]:
    names = [info.name for info in pkgutil.iter_modules(query_package.__path__, query_package.__name__ + ".")]
    return [query_package, *(importlib.import_module(name) for name in sorted(names))]


@pytest.mark.parametrize("module", _modules(), ids=lambda m: m.__name__)
def test_docstring_examples_render_the_sql_they_show(module: ModuleType) -> None:
    globs = {name: getattr(query_package, name) for name in query_package.__all__}
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    tests = [t for t in finder.find(module, module.__name__, extraglobs=globs) if t.examples]
    for test in tests:
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0
    assert tests, "every builder module documents its SQL with examples"
