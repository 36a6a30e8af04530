"""What the service layer needs from repositories (implemented over PostgreSQL and by fakes).

A repository is handed a connection by the unit of work; it never opens,
commits or closes one. Database errors come out as domain errors.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID

from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.product import NewProduct, Product


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

    async def update(self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None) -> Product:
        """Set ``changes`` (updatable fields only), bump version; NotFound / EtagMismatch."""
        ...

    async def soft_delete(self, id: UUID, *, expected_version: int | None) -> Product:
        """Set delete_time; NotFound / EtagMismatch."""
        ...

    async def undelete(self, id: UUID, *, expected_version: int | None) -> Product:
        """Clear delete_time; NotFound / EtagMismatch."""
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
