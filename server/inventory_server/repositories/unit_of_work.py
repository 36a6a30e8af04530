"""The PostgreSQL unit of work: every repository bound to the one connection of a transaction.

The composition root hands ``PostgresUnitOfWork`` to ``db.TransactionManager``
as its factory; the services see it as ``services.unit_of_work.UnitOfWork``.
Repositories are built on first use, so a unit that only reads products
builds only the product repository.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import psycopg

from inventory_server.repositories.audit import AuditRepository
from inventory_server.repositories.database_stats import DatabaseStatsRepository
from inventory_server.repositories.idempotency import IdempotencyRepository
from inventory_server.repositories.login_throttle import LoginThrottleRepository
from inventory_server.repositories.product_import import ProductImportRepository
from inventory_server.repositories.products import ProductRepository
from inventory_server.repositories.reservations import ReservationRepository
from inventory_server.repositories.stock_changes import StockChangeRepository
from inventory_server.repositories.stock_levels import StockLevelRepository
from inventory_server.repositories.stock_moves import StockMoveRepository
from inventory_server.repositories.transactions import TransactionRepository
from inventory_server.repositories.users import UserRepository
from inventory_server.repositories.warehouses import WarehouseRepository


class PostgresUnitOfWork:
    """Repositories over ``conn``; it never begins, commits or rolls back (the manager does)."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn

    @cached_property
    def products(self) -> ProductRepository:
        return ProductRepository(self.conn)

    @cached_property
    def product_import(self) -> ProductImportRepository:
        return ProductImportRepository(self.conn)

    @cached_property
    def warehouses(self) -> WarehouseRepository:
        return WarehouseRepository(self.conn)

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.conn)

    @cached_property
    def idempotency(self) -> IdempotencyRepository:
        return IdempotencyRepository(self.conn)

    @cached_property
    def stock_levels(self) -> StockLevelRepository:
        return StockLevelRepository(self.conn)

    @cached_property
    def transactions(self) -> TransactionRepository:
        return TransactionRepository(self.conn)

    @cached_property
    def stock_moves(self) -> StockMoveRepository:
        return StockMoveRepository(self.conn)

    @cached_property
    def stock_changes(self) -> StockChangeRepository:
        return StockChangeRepository(self.conn)

    @cached_property
    def reservations(self) -> ReservationRepository:
        return ReservationRepository(self.conn)

    @cached_property
    def database_stats(self) -> DatabaseStatsRepository:
        return DatabaseStatsRepository(self.conn)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.conn)

    @cached_property
    def login_throttle(self) -> LoginThrottleRepository:
        return LoginThrottleRepository(self.conn)
