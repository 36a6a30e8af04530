"""ImportProducts' data access: COPY rows into a staging table, then one set-based upsert.

Everything happens in the caller's transaction. The staging table is a TEMP
table dropped at commit (a rollback removes it too), so concurrent imports on
other connections never see each other's rows::

    repo = uow.product_import                   # PostgresUnitOfWork builds it on the connection
    await repo.create_staging()
    await repo.copy(rows)                       # as often as needed, a batch at a time
    await repo.reject_duplicates(); await repo.reject_deleted()
    inserted, updated = await repo.merge()      # INSERT ... SELECT ... ON CONFLICT DO UPDATE
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from inventory_server.db.query import (
    Cast,
    Param,
    Statement,
    col,
    count,
    excluded,
    func,
    insert,
    lower,
    now,
    select,
    table,
    update,
)
from inventory_server.domain.product import NewProduct
from inventory_server.repositories.executor import StatementExecutor

STAGING = "product_import_staging"
# Columns copied per row: the stream position, then the product's fields.
FIELDS = (
    "sku",
    "name",
    "description",
    "unit_price_minor",
    "currency_code",
    "reorder_point",
    "attributes",
)
COPY_COLUMNS = ("idx", *FIELDS)
# What an upsert changes on an existing product (the sku is immutable and keeps its spelling).
UPDATED_FIELDS = tuple(f for f in FIELDS if f != "sku")

# Rows upserted per statement: a few seconds of work at most, far inside statement_timeout.
MERGE_CHUNK_ROWS = 50_000

DELETED_REASON = "a product with this sku is deleted; undelete it (UndeleteProduct) before importing it"
DUPLICATE_REASON = "duplicates the sku of row "

StagedRow = tuple[int, str, str, str, int, str, int, Jsonb]


def staged_row(index: int, p: NewProduct) -> StagedRow:
    """One COPY row: the position in the stream and the product's values."""
    return (
        index,
        p.sku,
        p.name,
        p.description,
        p.unit_price_minor,
        p.currency_code,
        p.reorder_point,
        Jsonb(p.attributes),
    )


class ProductImportRepository(StatementExecutor):
    """Staging and merging of one import; instrumented as "product_import.<step>"."""

    stats_prefix = "product_import"

    async def create_staging(self) -> None:
        with self.operation("create_staging"):
            self.queries += 1
            await self.conn.execute(
                sql.SQL(
                    "CREATE TEMP TABLE {} ("
                    "idx bigint NOT NULL, sku text NOT NULL, name text NOT NULL, "
                    "description text NOT NULL, unit_price_minor bigint NOT NULL, "
                    "currency_code text NOT NULL, reorder_point bigint NOT NULL, "
                    "attributes jsonb NOT NULL, rejection text NULL"
                    ") ON COMMIT DROP"
                ).format(sql.Identifier(STAGING)),
                prepare=False,
            )

    async def copy(self, rows: Sequence[StagedRow]) -> None:
        """Stream ``rows`` into the staging table with one COPY."""
        with self.operation("copy"):
            self.queries += 1
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(STAGING), sql.SQL(", ").join(sql.Identifier(c) for c in COPY_COLUMNS)
            )
            async with self.conn.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    await copy.write_row(row)

    async def analyze(self) -> None:
        """Give the planner row counts for the staging table (temp tables are never auto-analysed)."""
        with self.operation("analyze"):
            self.queries += 1
            await self.conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(STAGING)), prepare=False)

    async def reject_duplicates(self) -> int:
        """Mark every row whose sku (case-insensitively) an earlier row already has; how many."""
        with self.operation("reject_duplicates"):
            staging = table(STAGING)
            ranked = (
                select(
                    col("idx"),
                    func("min", col("idx")).over(partition_by=[lower(col("sku"))]).as_("first_idx"),
                )
                .from_(STAGING)
                .subquery("ranked")
            )
            statement = (
                update(staging)
                .set(rejection=Param(DUPLICATE_REASON).concat(Cast(ranked.col("first_idx"), "text")))
                .from_(ranked)
                .where(
                    staging.col("idx").eq(ranked.col("idx")), ranked.col("idx").ne(ranked.col("first_idx"))
                )
            )
            return await self._run(statement)

    async def reject_deleted(self) -> int:
        """Mark rows whose sku belongs to a soft-deleted product; how many."""
        with self.operation("reject_deleted"):
            staging, products = table(STAGING), table("products", "p")
            statement = (
                update(staging)
                .set(rejection=Param(DELETED_REASON))
                .from_(products)
                .where(
                    lower(products.col("sku")).eq(lower(staging.col("sku"))),
                    products.col("delete_time").is_not_null(),
                    staging.col("rejection").is_null(),
                )
            )
            return await self._run(statement)

    async def rejected(self, limit: int) -> list[tuple[int, str, str]]:
        """The first ``limit`` rows marked rejected, by position: (index, sku, reason)."""
        with self.operation("rejected"):
            query = (
                select("idx", "sku", "rejection")
                .from_(STAGING)
                .where(col("rejection").is_not_null())
                .order_by("idx")
                .limit(limit)
            )
            rows = await self._fetch(query)
            return [(int(idx), str(sku), str(reason)) for idx, sku, reason in rows]

    async def merge(self, chunk_rows: int = MERGE_CHUNK_ROWS) -> tuple[int, int]:
        """Upsert every row not rejected, in sku order, ``chunk_rows`` per statement; (inserted, updated).

        An existing product (same sku, any case) gets the row's values, version + 1
        and a new update_time; ``xmax = 0`` on the returned row tells an insert.
        Chunks keep each statement well inside ``statement_timeout`` and walk the
        skus in ascending order, so every import locks products in the same order
        and two concurrent imports cannot deadlock.
        """
        with self.operation("merge"):
            self.queries += 1
            await self.conn.execute(
                sql.SQL("CREATE INDEX ON {} (lower(sku)) WHERE rejection IS NULL").format(
                    sql.Identifier(STAGING)
                ),
                prepare=False,
            )
            inserted = updated = 0
            after = ""  # every sku sorts after the empty string
            while True:
                (chunk_inserted, chunk_updated, last) = (
                    await self._fetch(self._merge_chunk(after, chunk_rows))
                )[0]
                inserted += int(chunk_inserted)
                updated += int(chunk_updated)
                if last is None or chunk_inserted + chunk_updated < chunk_rows:
                    return inserted, updated
                after = str(last)

    @staticmethod
    def _merge_chunk(after: str, limit: int) -> Statement:
        """The upsert of the next ``limit`` rows whose lower(sku) sorts after ``after``."""
        key = lower(col("sku"))
        source = (
            select(*FIELDS)
            .from_(STAGING)
            .where(col("rejection").is_null(), key.gt(after))
            .order_by(key)
            .limit(limit)
        )
        changes: dict[str, Any] = {name: excluded(name) for name in UPDATED_FIELDS}
        changes["version"] = table("products").col("version") + 1
        changes["update_time"] = now()
        upsert = (
            insert("products")
            .from_select(source, FIELDS)
            .on_conflict_do_update([key], changes)
            .returning(key.as_("key"), Cast(col("xmax"), "text").eq("0").as_("inserted"))
        )
        return (
            select(
                count().filter(col("inserted").eq(True)).as_("inserted"),
                count().filter(col("inserted").eq(False)).as_("updated"),
                func("max", col("key")).as_("last"),
            )
            .from_("merged")
            .with_("merged", upsert)
        )

    # Statements on the staging table are never prepared: its oid changes with every import.
    async def _fetch(self, statement: Statement) -> list[tuple[Any, ...]]:
        query, params = statement.build()
        self.queries += 1
        async with self.conn.cursor() as cursor:
            await cursor.execute(query, params, prepare=False)
            return await cursor.fetchall()

    async def _run(self, statement: Statement) -> int:
        query, params = statement.build()
        self.queries += 1
        async with self.conn.cursor() as cursor:
            await cursor.execute(query, params, prepare=False)
            return cursor.rowcount
