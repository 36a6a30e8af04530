"""What the service layer needs from repositories (implemented over PostgreSQL and by fakes).

A repository is handed a connection by the unit of work; it never opens,
commits or closes one. Database errors come out as domain errors. The stock
repositories' protocols are in ``repositories.stock_interfaces``;
``services.unit_of_work.UnitOfWork`` gathers them all.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from inventory_server.domain.audit import AuditEvent, NewAuditEvent
from inventory_server.domain.login_throttle import ThrottleKey
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.product import NewProduct, Product
from inventory_server.domain.user import NewUser, StoredCredentials, User
from inventory_server.domain.warehouse import NewWarehouse, Warehouse

if TYPE_CHECKING:
    from inventory_server.repositories.database_stats import DatabaseFigures
    from inventory_server.repositories.product_import import StagedRow


@dataclass(frozen=True, slots=True)
class Claim:
    """A request_id to claim for the first request (see ``IdempotencyRepository.claim``)."""

    scope: str
    request_id: str
    fingerprint: str


class ProductRepository(Protocol):
    async def get(self, id: UUID, *, for_update: bool = False) -> Product:
        """The product (deleted or not); NotFound when there is none."""
        ...

    async def get_many(self, ids: Sequence[UUID]) -> builtins.list[Product]:
        """The products that exist among ``ids``, in no particular order; one query."""
        ...

    async def list(self, query: ListQuery) -> Page[Product]:
        """A keyset-paginated page; bad filter/order_by/token -> InvalidArgument."""
        ...

    async def create(self, new: NewProduct) -> Product:
        """Insert; duplicate sku -> AlreadyExists(field="sku")."""
        ...

    async def create_many(self, news: Sequence[NewProduct]) -> builtins.list[Product]:
        """Insert all in one statement, returned in input order; duplicate sku -> AlreadyExists."""
        ...

    async def create_once(
        self, new: NewProduct, *, id: UUID, claim: Claim, response: dict[str, Any]
    ) -> Product | None:
        """Claim the request_id with ``response`` stored and insert the product ``id``, in one statement.

        None (nothing inserted) when an earlier request holds the key, whose
        response the caller then replays; duplicate sku -> AlreadyExists.
        """
        ...

    async def update(self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None) -> Product:
        """Set ``changes`` (updatable fields only), bump version; NotFound / EtagMismatch."""
        ...

    async def soft_delete(self, id: UUID, *, expected_version: int | None) -> Product:
        """Set delete_time; NotFound / EtagMismatch."""
        ...

    async def undelete(self, id: UUID, *, expected_version: int | None) -> Product:
        """Clear delete_time; NotFound / EtagMismatch."""
        ...


class WarehouseRepository(Protocol):
    async def get(self, id: UUID, *, for_update: bool = False) -> Warehouse:
        """The warehouse (deleted or not); NotFound when there is none."""
        ...

    async def list(self, query: ListQuery) -> Page[Warehouse]:
        """A keyset-paginated page; bad filter/order_by/token -> InvalidArgument."""
        ...

    async def create(self, new: NewWarehouse) -> Warehouse:
        """Insert; duplicate code -> AlreadyExists(field="code")."""
        ...

    async def update(
        self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None
    ) -> Warehouse:
        """Set ``changes`` (updatable fields only), bump version; NotFound / EtagMismatch."""
        ...

    async def soft_delete(self, id: UUID, *, expected_version: int | None) -> Warehouse:
        """Set delete_time; NotFound / EtagMismatch; holding stock -> FailedPrecondition."""
        ...


class UserRepository(Protocol):
    async def get(self, id: UUID, *, for_update: bool = False) -> User:
        """The user (deleted or not); NotFound when there is none."""
        ...

    async def list(self, query: ListQuery) -> Page[User]:
        """A keyset-paginated page; bad filter/order_by/token -> InvalidArgument."""
        ...

    async def create(self, new: NewUser, password_hash: str) -> User:
        """Insert with the given hash; duplicate email (any case) -> AlreadyExists(field="email")."""
        ...

    async def update(self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None) -> User:
        """Set ``changes`` (profile fields and/or password_hash), bump version; NotFound / EtagMismatch."""
        ...

    async def soft_delete(self, id: UUID, *, expected_version: int | None) -> User:
        """Set delete_time; NotFound / EtagMismatch."""
        ...

    async def credentials(self, email: str) -> StoredCredentials | None:
        """The live user with this email (any case) and their hash; None when there is none."""
        ...

    async def replace_password_hash(self, id: UUID, old_hash: str, new_hash: str) -> bool:
        """Swap the hash if it is still ``old_hash``; whether it was swapped."""
        ...


class ProductImportRepository(Protocol):
    """One import's staging table and merge, inside the caller's transaction."""

    async def create_staging(self) -> None: ...

    async def copy(self, rows: Sequence[StagedRow]) -> None: ...

    async def analyze(self) -> None: ...

    async def reject_duplicates(self) -> int:
        """Mark later rows repeating a sku; how many."""
        ...

    async def reject_deleted(self) -> int:
        """Mark rows naming a soft-deleted product; how many."""
        ...

    async def rejected(self, limit: int) -> builtins.list[tuple[int, str, str]]:
        """The first ``limit`` marked rows as (index, sku, reason)."""
        ...

    async def merge(self, chunk_rows: int = ...) -> tuple[int, int]:
        """Upsert the unmarked rows; (inserted, updated)."""
        ...


class IdempotencyRepository(Protocol):
    """Remembers the response of each (scope, request_id) so that retries change nothing."""

    async def claim(self, scope: str, request_id: str, fingerprint: str) -> dict[str, Any] | None:
        """Claim the key inside the current transaction.

        Returns None when this transaction now owns the key (do the work, then
        ``store``); returns the stored response when an earlier request with
        the same key has committed. A concurrent request with the same key
        waits for the first to commit or roll back. The same key with a
        different fingerprint -> InvalidArgument.
        """
        ...

    async def store(self, scope: str, request_id: str, response: dict[str, Any]) -> None:
        """Record the response for a key claimed in this transaction."""
        ...

    async def purge_older_than(self, age: timedelta, *, limit: int | None = None) -> int:
        """Forget keys created more than ``age`` ago (at most ``limit``); the number forgotten."""
        ...


class DatabaseStatsRepository(Protocol):
    """The database's own figures for Stats (catalogue views, the migration history)."""

    async def figures(self) -> tuple[DatabaseFigures | None, str]:
        """``pg_stat_database`` for this database and the server version ("" when there is no row)."""
        ...

    async def schema_version(self) -> str:
        """The newest applied migration, or "" for a database that was never migrated."""
        ...


class AuditRepository(Protocol):
    """The append-only audit log: rows are recorded in the caller's transaction and never changed."""

    async def record(self, event: NewAuditEvent) -> None:
        """Append ``event`` (id and time from the database)."""
        ...

    async def list(self, query: ListQuery) -> Page[AuditEvent]:
        """A keyset page; bad filter / order_by / page_token -> InvalidArgument."""
        ...


class LoginThrottleRepository(Protocol):
    """Failed-login counters shared by every replica."""

    async def blocked_for(self, keys: Sequence[ThrottleKey]) -> float:
        """Seconds until every one of ``keys`` is unblocked; 0 when none is blocked."""
        ...

    async def record_failure(self, keys: Sequence[ThrottleKey], window_seconds: float) -> None:
        """Count one failed attempt against each key."""
        ...

    async def clear(self, key: ThrottleKey) -> None:
        """Forget the failures of ``key``."""
        ...
