"""Every ``>>>`` example in the Stats modules (and the modules their figures come from) holds."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import inventory_server.services.stats as stats_package

SOURCES = (
    "inventory_server.cache.product_cache",
    "inventory_server.percentiles",
    "inventory_server.repositories.database_stats",
)


def _modules() -> list[ModuleType]:
    names = [info.name for info in pkgutil.iter_modules(stats_package.__path__, stats_package.__name__ + ".")]
    return [importlib.import_module(name) for name in sorted(names) + list(SOURCES)]


@pytest.mark.parametrize("module", _modules(), ids=lambda m: m.__name__)
def test_docstring_examples_hold(module: ModuleType) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    for test in doctest.DocTestFinder().find(module, module.__name__):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
