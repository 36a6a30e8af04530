"""ImportProducts: a client stream of products upserted by sku in one transaction.

Rules (the README's "Bulk import" paragraph tells callers the same):

* the stream is read to its end before the transaction starts, with no
  connection held (``services.import_stream``: per-message idle timeout, row
  and byte bounds, at most ``INVENTORY_IMPORT_MAX_CONCURRENT`` imports at once);
* each row is validated as it arrives (``NewProduct.validate``); an invalid row is
  rejected with its index, sku as sent (cut to 64 characters) and reason, and not loaded;
* valid rows go to a TEMP staging table with COPY, ``batch_rows`` at a time;
* a sku repeated in the stream (case-insensitively) is loaded from its *first*
  row; later rows with it are rejected ("duplicates the sku of row N");
* a sku of a soft-deleted product is rejected: an import never undeletes;
* everything else is upserted set-based (INSERT ... SELECT ... ON CONFLICT DO
  UPDATE, one statement per ``merge_rows`` rows in sku order): new skus are
  inserted, existing ones updated (version + 1, update_time now) — inserted +
  updated + rejected always equals the number of rows received;
* ``all_or_nothing`` (read from the first message): if any row is rejected,
  nothing is loaded and the answer lists the rejections with zero counts;
* at most ``max_rows`` rows and ``max_bytes`` of product text per stream, else
  INVALID_ARGUMENT and nothing loaded;
* at most ``max_listed`` rejections (and 256 KiB of their text) are listed (the
  first by index); the count covers all of them.

The import runs in one write unit (atomic for database errors) and is never
re-run by the transactor: the stream cannot be replayed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable

from inventory_server.cache.product_cache import ProductCache
from inventory_server.domain.product import NewProduct
from inventory_server.repositories.interfaces import ProductImportRepository
from inventory_server.repositories.product_import import MERGE_CHUNK_ROWS, staged_row
from inventory_server.services.import_stream import (
    ImportGate,
    ImportLimits,
    ImportResult,
    ImportRow,
    ReadImport,
    RejectedRow,
    read_import,
)
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

COPY_BATCH_ROWS = 2000

__all__ = ["ImportLimits", "ImportResult", "ImportRow", "ProductImportService", "RejectedRow"]


class ProductImportService:
    """Runs imports; see the module docstring for the rules."""

    def __init__(
        self,
        transactor: Transactor[UnitOfWork],
        cache: ProductCache | None = None,
        *,
        limits: ImportLimits | None = None,
        batch_rows: int = COPY_BATCH_ROWS,
        merge_rows: int = MERGE_CHUNK_ROWS,
    ) -> None:
        self.transactor = transactor
        self.cache = cache if cache is not None else ProductCache.disabled()
        self.limits = limits or ImportLimits()
        self.gate = ImportGate(self.limits.max_concurrent)
        self.batch_rows = batch_rows
        self.merge_rows = merge_rows

    @property
    def max_listed(self) -> int:
        return self.limits.max_listed

    async def import_products(self, rows: AsyncIterable[ImportRow], *, all_or_nothing: bool) -> ImportResult:
        """Read the whole stream (no connection held), then load it in one transaction."""
        with self.gate.admit():
            read = await read_import(rows, self.limits)
            return await self._load(read, all_or_nothing=all_or_nothing)

    async def _load(self, read: ReadImport, *, all_or_nothing: bool) -> ImportResult:
        merged = False

        async def work(uow: UnitOfWork) -> ImportResult:
            nonlocal merged
            repo = uow.product_import
            await repo.create_staging()
            result = dataclasses.replace(read.result, rejected=list(read.result.rejected))
            staged = await self._stage(read.rows, repo)
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

    async def _stage(self, rows: list[tuple[int, NewProduct]], repo: ProductImportRepository) -> int:
        """COPY the valid rows a batch at a time; the number staged."""
        for start in range(0, len(rows), self.batch_rows):
            await repo.copy(
                [staged_row(index, product) for index, product in rows[start : start + self.batch_rows]]
            )
        return len(rows)


class _NothingLoaded(Exception):
    """Raised out of the write unit to roll it back: all_or_nothing with rejected rows."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("all_or_nothing import with rejected rows")
        self.result = result
