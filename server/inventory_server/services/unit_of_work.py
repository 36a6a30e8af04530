"""What every use case runs in: a unit of work, and the two verbs that run one.

``UnitOfWork`` is the one shape every service is typed against: the
repositories of one transaction, as protocols. ``Transactor`` runs a piece of
work in a unit of work, in one of two ways:

- ``read(work)``: read-only; nothing to commit. ``read(work, replica_ok=True)``
  may run on a read replica (bounded staleness, read-your-writes by token:
  ``db.transaction_manager``); only the public Get/List reads opt in.
- ``write(work)``: one transaction, committed when ``work`` returns and rolled
  back when it raises. Work cannot commit by hand, so it cannot forget to
  either; to undo everything, raise.

Both may run ``work`` more than once (after a serialization failure, a
deadlock or a connection lost before commit), so work must not have effects
outside the unit of work; ``retryable=False`` for work that cannot be re-run.

In the server, ``db.transaction_manager.TransactionManager`` bound to
``repositories.unit_of_work.PostgresUnitOfWork`` is the ``Transactor``; the
unit tests use the in-memory ``tests/unit/fakes.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from inventory_server.repositories.interfaces import (
    AuditRepository,
    DatabaseStatsRepository,
    IdempotencyRepository,
    LoginThrottleRepository,
    ProductImportRepository,
    ProductRepository,
    UserRepository,
    WarehouseRepository,
)
from inventory_server.repositories.stock_interfaces import (
    ReservationRepository,
    StockChangeRepository,
    StockLevelRepository,
    StockMoveRepository,
    TransactionRepository,
)

T = TypeVar("T")
U_co = TypeVar("U_co", covariant=True)


class UnitOfWork(Protocol):
    """The repositories of one transaction."""

    @property
    def products(self) -> ProductRepository: ...

    @property
    def product_import(self) -> ProductImportRepository: ...

    @property
    def warehouses(self) -> WarehouseRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def stock_levels(self) -> StockLevelRepository: ...

    @property
    def transactions(self) -> TransactionRepository: ...

    @property
    def stock_moves(self) -> StockMoveRepository: ...

    @property
    def stock_changes(self) -> StockChangeRepository: ...

    @property
    def reservations(self) -> ReservationRepository: ...

    @property
    def database_stats(self) -> DatabaseStatsRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def login_throttle(self) -> LoginThrottleRepository: ...


class Transactor(Protocol[U_co]):
    """Runs work in a unit of work ``U_co`` (a ``UnitOfWork`` for the services)."""

    async def read(
        self, work: Callable[[U_co], Awaitable[T]], *, retryable: bool = True, replica_ok: bool = False
    ) -> T:
        """Run read-only ``work``; ``replica_ok``: it tolerates bounded staleness (a read replica may run it).

        Opt-in per use case, so that nothing reaches a replica by accident: never for a read
        inside a write, a password, permission or role check, or an idempotency key.
        """
        ...

    async def write(self, work: Callable[[U_co], Awaitable[T]], *, retryable: bool = True) -> T:
        """Run ``work`` in a transaction: committed when it returns, rolled back when it raises."""
        ...
