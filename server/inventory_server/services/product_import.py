"""ImportProducts: a client stream of products upserted by sku in one transaction.

Rules (the README's "Bulk import" paragraph tells callers the same):

* each row is validated as it arrives (``NewProduct.validate``); an invalid row is
  rejected with its index, sku as sent and reason, and not loaded;
* valid rows go to a TEMP staging table with COPY, ``batch_rows`` at a time, so
  the server holds at most one batch of the stream in memory;
* a sku repeated in the stream (case-insensitively) is loaded from its *first*
  row; later rows with it are rejected ("duplicates the sku of row N");
* a sku of a soft-deleted product is rejected: an import never undeletes;
* everything else is upserted set-based (INSERT ... SELECT ... ON CONFLICT DO
  UPDATE, one statement per ``merge_rows`` rows in sku order): new skus are
  inserted, existing ones updated (version + 1, update_time now) — inserted +
  updated + rejected always equals the number of rows received;
* ``all_or_nothing`` (read from the first message): if any row is rejected,
  nothing is loaded and the answer lists the rejections with zero counts;
* at most ``max_rows`` rows per stream, else INVALID_ARGUMENT and nothing loaded;
* at most ``max_listed`` rejections are listed (the first by index); the count
  covers all of them.

The import runs in one write unit (atomic for database errors) and is never
re-run by the transactor: the stream cannot be replayed.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass, field

from inventory_server.cache.product_cache import ProductCache
from inventory_server.domain.errors import FieldViolation, InvalidArgument
from inventory_server.domain.product import NewProduct
from inventory_server.repositories.interfaces import ProductImportRepository
from inventory_server.repositories.product_import import MERGE_CHUNK_ROWS, StagedRow, staged_row
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

MAX_IMPORT_ROWS = 1_000_000
MAX_LISTED_REJECTIONS = 1000
COPY_BATCH_ROWS = 2000


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One row of the stream: the sku exactly as sent (for rejections) and the parsed product."""

    sku_sent: str
    product: NewProduct


@dataclass(frozen=True, slots=True)
class RejectedRow:
    index: int
    sku: str
    reason: str


@dataclass(slots=True)
class ImportResult:
    inserted: int = 0
    updated: int = 0
    rejected_count: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


def rejection_reason(product: NewProduct) -> str | None:
    """Why ``product`` cannot be loaded, or None when it can."""
    try:
        product.validate()
    except InvalidArgument as exc:
        return "; ".join(f"{v.field}: {v.description}" for v in exc.violations) or exc.message
    texts = (product.name, product.description, *product.attributes.keys(), *product.attributes.values())
    if any("\x00" in text for text in texts):
        return "text fields must not contain NUL characters"
    return None


class ProductImportService:
    """Runs imports; see the module docstring for the rules."""

    def __init__(
        self,
        transactor: Transactor[UnitOfWork],
        cache: ProductCache | None = None,
        *,
        max_rows: int = MAX_IMPORT_ROWS,
        max_listed: int = MAX_LISTED_REJECTIONS,
        batch_rows: int = COPY_BATCH_ROWS,
        merge_rows: int = MERGE_CHUNK_ROWS,
    ) -> None:
        self.transactor = transactor
        self.cache = cache if cache is not None else ProductCache.disabled()
        self.max_rows = max_rows
        self.max_listed = max_listed
        self.batch_rows = batch_rows
        self.merge_rows = merge_rows

    async def import_products(self, rows: AsyncIterable[ImportRow], *, all_or_nothing: bool) -> ImportResult:
        merged = False

        async def work(uow: UnitOfWork) -> ImportResult:
            nonlocal merged
            repo = uow.product_import
            await repo.create_staging()
            result = ImportResult()
            staged = await self._stage(rows, repo, result)
            if staged:
                await repo.analyze()
                refused = await repo.reject_duplicates() + await repo.reject_deleted()
                if refused:
                    result.rejected_count += refused
                    listed = [RejectedRow(*r) for r in await repo.rejected(self.max_listed)]
                    result.rejected = sorted(result.rejected + listed, key=lambda r: r.index)
                    del result.rejected[self.max_listed :]
                staged -= refused
            if all_or_nothing and result.rejected_count:
                raise _NothingLoaded(result)  # rolls the staging back
            if staged:
                merged = True  # until we know whether it updated anything
                result.inserted, result.updated = await repo.merge(self.merge_rows)
                merged = result.updated > 0
            return result

        try:
            return await self.transactor.write(work, retryable=False)
        except _NothingLoaded as refused:
            return refused.result
        finally:
            if merged:  # cached products may have changed (NOTIFY tells the other replicas)
                self.cache.clear()

    async def _stage(
        self, rows: AsyncIterable[ImportRow], repo: ProductImportRepository, result: ImportResult
    ) -> int:
        """COPY the valid rows a batch at a time; record the invalid ones; the number staged."""
        batch: list[StagedRow] = []
        staged = 0
        index = -1
        async for row in rows:
            index += 1
            if index >= self.max_rows:
                raise InvalidArgument(
                    f"an import takes at most {self.max_rows} rows; split the stream",
                    violations=[FieldViolation("stream", f"at most {self.max_rows} rows")],
                    reason="IMPORT_TOO_LARGE",
                )
            reason = rejection_reason(row.product)
            if reason is not None:
                result.rejected_count += 1
                if len(result.rejected) < self.max_listed:
                    result.rejected.append(RejectedRow(index, row.sku_sent, reason))
                continue
            batch.append(staged_row(index, row.product))
            staged += 1
            if len(batch) >= self.batch_rows:
                await repo.copy(batch)
                batch = []
        if batch:
            await repo.copy(batch)
        return staged


class _NothingLoaded(Exception):
    """Raised out of the write unit to roll it back: all_or_nothing with rejected rows."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("all_or_nothing import with rejected rows")
        self.result = result
