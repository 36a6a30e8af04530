"""Every repository and every fake has exactly the methods its protocol declares, signature for signature.

mypy already checks that an implementation is *compatible* with its protocol
where one is passed as the other. These checks are stricter and run at test
time: each protocol method exists, is ``async def`` on both sides, and takes
the same parameters (names, kinds, which have defaults), so the protocol's
docstrings describe exactly what the implementations accept; and both units
of work offer every repository the ``UnitOfWork`` protocol names.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from inventory_server.repositories import interfaces, stock_interfaces
from inventory_server.repositories.database_stats import DatabaseStatsRepository
from inventory_server.repositories.idempotency import IdempotencyRepository
from inventory_server.repositories.product_import import ProductImportRepository
from inventory_server.repositories.products import ProductRepository
from inventory_server.repositories.reservations import ReservationRepository
from inventory_server.repositories.stock_changes import StockChangeRepository
from inventory_server.repositories.stock_levels import StockLevelRepository
from inventory_server.repositories.stock_moves import StockMoveRepository
from inventory_server.repositories.transactions import TransactionRepository
from inventory_server.repositories.unit_of_work import PostgresUnitOfWork
from inventory_server.repositories.users import UserRepository
from inventory_server.repositories.warehouses import WarehouseRepository
from inventory_server.services.unit_of_work import UnitOfWork
from tests.unit import fakes

PAIRS: list[tuple[type[Any], type[Any]]] = [
    (interfaces.ProductRepository, ProductRepository),
    (interfaces.ProductRepository, fakes.FakeProducts),
    (interfaces.WarehouseRepository, WarehouseRepository),
    (interfaces.WarehouseRepository, fakes.FakeWarehouses),
    (interfaces.UserRepository, UserRepository),
    (interfaces.UserRepository, fakes.FakeUsers),
    (interfaces.IdempotencyRepository, IdempotencyRepository),
    (interfaces.IdempotencyRepository, fakes.FakeIdempotency),
    (interfaces.ProductImportRepository, ProductImportRepository),
    (interfaces.ProductImportRepository, fakes.FakeProductImport),
    (interfaces.DatabaseStatsRepository, DatabaseStatsRepository),
    (interfaces.DatabaseStatsRepository, fakes.FakeDatabaseStats),
    (stock_interfaces.StockLevelRepository, StockLevelRepository),
    (stock_interfaces.StockLevelRepository, fakes.FakeStockLevels),
    (stock_interfaces.TransactionRepository, TransactionRepository),
    (stock_interfaces.TransactionRepository, fakes.FakeLedger),
    (stock_interfaces.StockMoveRepository, StockMoveRepository),
    (stock_interfaces.StockMoveRepository, fakes.FakeStockMoves),
    (stock_interfaces.StockChangeRepository, StockChangeRepository),
    (stock_interfaces.StockChangeRepository, fakes.FakeStockChanges),
    (stock_interfaces.ReservationRepository, ReservationRepository),
    (stock_interfaces.ReservationRepository, fakes.FakeReservations),
]


def declared_methods(protocol: type[Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in vars(protocol).items()
        if not name.startswith("_") and inspect.isfunction(value)
    }


def shape(function: Any) -> list[tuple[str, Any, bool]]:
    """(name, kind, has a default) per parameter: what a caller relies on, annotations aside."""
    return [
        (p.name, p.kind, p.default is not inspect.Parameter.empty)
        for p in inspect.signature(function).parameters.values()
    ]


@pytest.mark.parametrize(
    ("protocol", "implementation"), PAIRS, ids=[f"{p.__name__}-{i.__name__}" for p, i in PAIRS]
)
def test_the_implementation_has_every_method_of_its_protocol_with_the_same_signature(
    protocol: type[Any], implementation: type[Any]
) -> None:
    methods = declared_methods(protocol)
    assert methods, f"{protocol.__name__} declares no methods"
    for name, declared in methods.items():
        implemented = getattr(implementation, name, None)
        assert implemented is not None, f"{implementation.__name__} lacks {name}"
        assert inspect.iscoroutinefunction(implemented), f"{implementation.__name__}.{name} is not async"
        assert inspect.iscoroutinefunction(declared), f"{protocol.__name__}.{name} is not async"
        assert shape(implemented) == shape(declared), f"{implementation.__name__}.{name}"


def test_the_checks_above_notice_a_missing_or_different_method() -> None:
    class Incomplete:
        async def claim(self, scope: str, request_id: str) -> None: ...

    with pytest.raises(AssertionError, match="claim"):
        test_the_implementation_has_every_method_of_its_protocol_with_the_same_signature(
            interfaces.IdempotencyRepository, Incomplete
        )


def test_both_units_of_work_offer_every_repository_of_the_protocol() -> None:
    repositories = {name for name, value in vars(UnitOfWork).items() if isinstance(value, property)}
    assert "products" in repositories
    postgres = {name for name, value in vars(PostgresUnitOfWork).items() if not name.startswith("_")}
    assert repositories <= postgres
    fake = vars(fakes.FakeUnitOfWork(fakes.FakeDatabase()))
    assert repositories <= set(fake)
