"""Product use cases."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from inventory_server.cache.product_cache import ProductCache
from inventory_server.domain.errors import AlreadyExists, ErrorDetails, InvalidArgument, NotFound
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.product import PRODUCT_UPDATES, NewProduct, Product
from inventory_server.repositories.interfaces import Claim
from inventory_server.services.audit import audited, audited_many, event
from inventory_server.services.idempotency import write_once
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

MAX_BATCH_SIZE = 1000


# Audit events name resources "products/<id>".
COLLECTION = "products"


class ProductService:
    """Reads and changes products; every change runs in one unit of work.

    Get and BatchGet read through ``cache``; every write here invalidates what it
    touched as soon as it returns (other replicas learn of it by NOTIFY).
    """

    def __init__(self, transactor: Transactor[UnitOfWork], cache: ProductCache | None = None) -> None:
        self.transactor = transactor
        self.cache = cache if cache is not None else ProductCache.disabled()

    async def get(self, id: UUID) -> Product:
        cached = self.cache.get(id)
        if cached is not None:
            return cached
        ticket = self.cache.ticket()

        product = await self.transactor.read(lambda uow: uow.products.get(id))
        self.cache.put(product, ticket)
        return product

    async def batch_get(self, ids: Sequence[UUID]) -> list[Product]:
        if len(ids) > MAX_BATCH_SIZE:
            raise InvalidArgument.field("ids", f"at most {MAX_BATCH_SIZE} ids per call")

        found = self.cache.get_many(dict.fromkeys(ids))
        wanted = [i for i in dict.fromkeys(ids) if i not in found]
        ticket = self.cache.ticket()

        if wanted:
            for product in await self.transactor.read(lambda uow: uow.products.get_many(wanted)):
                self.cache.put(product, ticket)
                found[product.id] = product
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise NotFound(
                "product",
                missing[0],
                message=f"{len(missing)} product(s) not found: {', '.join(missing[:10])}",
            )
        return [found[i] for i in ids]

    async def list_products(self, query: ListQuery) -> Page[Product]:
        return await self.transactor.read(lambda uow: uow.products.list(query), replica_ok=True)

    async def create(self, new: NewProduct, request_id: str = "") -> Product:
        """One product; with a request_id the claim, the insert and the stored response are one statement."""
        new.validate()

        async def at_once(uow: UnitOfWork, claim: Claim | None) -> list[Product] | None:
            if claim is None:
                return None
            id = uuid.uuid4()
            created = await uow.products.create_once(new, id=id, claim=claim, response=_ids_response([id]))
            if created is None:
                return None
            # This path skips the audited work below: record the creation here, in the same unit.
            await uow.audit.record(event(f"{COLLECTION}/{created.id}", request_id=request_id))
            return [created]

        return (await self._create_many([new], request_id, scope="CreateProduct", at_once=at_once))[0]

    async def batch_create(self, news: Sequence[NewProduct], request_id: str = "") -> list[Product]:
        if not news:
            raise InvalidArgument.field("requests", "must not be empty")
        if len(news) > MAX_BATCH_SIZE:
            raise InvalidArgument.field("requests", f"at most {MAX_BATCH_SIZE} items per batch")
        errors = ErrorDetails()
        for index, new in enumerate(news):
            try:
                new.validate(prefix=f"requests[{index}].product")
            except InvalidArgument as exc:
                errors.violations.extend(exc.violations)
        seen: dict[str, int] = {}
        for index, new in enumerate(news):
            first = seen.setdefault(new.sku.lower(), index)
            if first != index:
                errors.add(f"requests[{index}].product.sku", f"duplicates the sku of requests[{first}]")
        errors.raise_if_any("invalid batch")
        try:
            return await self._create_many(news, request_id, scope="BatchCreateProducts")
        except AlreadyExists as exc:
            failing = next((i for i, n in enumerate(news) if n.sku.lower() == exc.value.lower()), None)
            if failing is not None:
                exc.message = f"requests[{failing}]: {exc.message}"
                exc.args = (exc.message,)
                exc.metadata["index"] = str(failing)
            raise

    async def _create_many(
        self,
        news: Sequence[NewProduct],
        request_id: str,
        *,
        scope: str,
        at_once: Callable[[UnitOfWork, Claim | None], Awaitable[list[Product] | None]] | None = None,
    ) -> list[Product]:
        async def replay(uow: UnitOfWork, stored: dict[str, Any]) -> list[Product]:
            ids = [UUID(i) for i in stored["ids"]]
            by_id = {p.id: p for p in await uow.products.get_many(ids)}
            return [by_id[i] for i in ids]

        return await write_once(
            self.transactor,
            audited_many(COLLECTION, lambda uow: uow.products.create_many(news), request_id=request_id),
            scope=scope,
            request_id=request_id,
            payload=[dataclasses.asdict(n) for n in news],
            encode=lambda created: _ids_response([p.id for p in created]),
            replay=replay,
            at_once=at_once,
        )

    async def update(self, id: UUID, changes: Mapping[str, Any], expected_version: int | None) -> Product:
        PRODUCT_UPDATES.check(changes)

        try:
            return await self.transactor.write(
                audited(
                    COLLECTION,
                    lambda uow: uow.products.update(id, changes, expected_version=expected_version),
                    changes,
                )
            )
        finally:
            self.cache.invalidate([id])  # even on failure: a lost commit may have committed

    async def delete(self, id: UUID, expected_version: int | None) -> Product:
        try:
            return await self.transactor.write(
                audited(
                    COLLECTION, lambda uow: uow.products.soft_delete(id, expected_version=expected_version)
                )
            )
        finally:
            self.cache.invalidate([id])  # even on failure: a lost commit may have committed

    async def undelete(self, id: UUID, expected_version: int | None) -> Product:
        try:
            return await self.transactor.write(
                audited(COLLECTION, lambda uow: uow.products.undelete(id, expected_version=expected_version))
            )
        finally:
            self.cache.invalidate([id])  # even on failure: a lost commit may have committed


def _ids_response(ids: Sequence[UUID]) -> dict[str, Any]:
    """What a create stores under its request_id: the ids, in order (a replay reads the rows again)."""
    return {"ids": [str(id) for id in ids]}
