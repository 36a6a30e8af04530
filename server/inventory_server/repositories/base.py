"""The repository bases for any mapped table.

``ReadRepository``: get, get_many, list (the append-only ledger stops here).
``BaseRepository``: adds insert, update with etags, soft delete and undelete.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

import psycopg
from psycopg.types.json import Jsonb

from inventory_server.db.listing import plan_list
from inventory_server.db.query import (
    NULL,
    Column,
    Condition,
    Select,
    col,
    insert,
    now,
    select,
    update,
)
from inventory_server.domain.errors import (
    AlreadyExists,
    Deleted,
    DomainError,
    EtagMismatch,
    FailedPrecondition,
    NotFound,
)
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.updates import refuse_unknown
from inventory_server.repositories.errors import translate_db_error
from inventory_server.repositories.executor import Operation, Row, StatementExecutor
from inventory_server.repositories.mapping import TableMapping

T = TypeVar("T")


class ReadRepository(StatementExecutor, Generic[T]):
    """Reads of one table, described by ``mapping`` (set by each subclass); one statement each."""

    mapping: TableMapping[T]

    def operation(self, name: str) -> Operation:
        """Instrumented as "<table>.<name>", e.g. "products.get"."""
        return Operation(self, f"{self.mapping.table}.{name}")

    # reads ---------------------------------------------------------------
    async def get(self, id: uuid.UUID, *, for_update: bool = False) -> T:
        """The row (deleted or not); NotFound when there is none.

        ``for_update`` locks it with ``FOR NO KEY UPDATE`` until the transaction ends.
        """
        with self.operation("get"):
            query = self._select().where(self._id().eq(id))
            row = await self.fetch_one(query.for_no_key_update() if for_update else query)
            if row is None:
                raise NotFound(self.mapping.resource, str(id))
            return self.mapping.from_row(row)

    async def get_many(self, ids: Sequence[uuid.UUID]) -> list[T]:
        """The rows that exist among ``ids``, in no particular order; one query."""
        with self.operation("get_many"):
            if not ids:
                return []
            rows = await self.fetch_all(self._select().where(self._id().eq_any(list(ids))))
            return [self.mapping.from_row(row) for row in rows]

    async def list_page(
        self,
        query: ListQuery,
        *,
        base_where: Condition | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> Page[T]:
        """One keyset page in one query (page_size + 1 rows tell whether another page follows)."""
        with self.operation("list"):
            plan = plan_list(self.mapping.list_fields, query, base_where=base_where, extra=extra)
            rows = await self.fetch_all(plan.apply(self._select()))
            page_rows, next_token = plan.split(rows)
            return Page([self.mapping.from_row(row) for row in page_rows], next_token)

    # helpers -----------------------------------------------------------------
    def _id(self) -> Column:
        return col(self.mapping.id_column)

    def _columns(self) -> tuple[Column, ...]:
        return tuple(col(c) for c in self.mapping.columns)

    def _select(self) -> Select:
        return select(*self._columns()).from_(self.mapping.table)


class BaseRepository(ReadRepository[T]):
    """Standard data access for one versioned table, described by ``mapping`` (set by each subclass).

    Every method is one statement on the happy path; a failed conditional
    write reads the row once more to tell NotFound from EtagMismatch.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        mapping = cls.__dict__.get("mapping")
        if mapping is not None and (mapping.version_column is None or mapping.update_time_column is None):
            raise TypeError(f"{cls.__name__}: writes need a version and an update_time column")

    # writes --------------------------------------------------------------
    async def insert_one(self, values: Mapping[str, Any]) -> T:
        """Insert one row; a unique violation -> AlreadyExists naming the field."""
        with self.operation("create"):
            return (await self._insert([values]))[0]

    async def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> list[T]:
        """Insert every row in one statement; results in input order."""
        with self.operation("create_many"):
            return await self._insert(rows)

    async def update_fields(
        self, id: uuid.UUID, changes: Mapping[str, Any], *, expected_version: int | None
    ) -> T:
        """Set ``changes`` (updatable columns only), bump version and update_time.

        NotFound when the row does not exist, EtagMismatch when its version is
        not ``expected_version``, Deleted (FAILED_PRECONDITION) when it is
        soft-deleted; no changes at all leave the row as it is.
        """
        with self.operation("update"):
            refuse_unknown(set(changes) - self.mapping.updatable)
            if not changes:
                return self.mapping.from_row(self._live(id, await self._current(id, expected_version)))
            deleted_column = self.mapping.soft_delete_column
            live = None if deleted_column is None else col(deleted_column).is_null()
            statement = (
                update(self.mapping.table)
                .set(self._encode(changes))
                .set(self._bump())
                .where(self._id().eq(id), self._version_is(expected_version), live)
                .returning(*self._columns())
            )
            row = await self.fetch_one(statement)
            if row is None:
                self._live(id, await self._current(id, expected_version))
                raise EtagMismatch(self.mapping.resource, str(id))
            return self.mapping.from_row(row)

    def _live(self, id: uuid.UUID, row: Row) -> Row:
        """``row`` when it is not soft-deleted; else Deleted (a deleted row cannot be changed)."""
        deleted_column = self.mapping.soft_delete_column
        if deleted_column is not None and row[deleted_column] is not None:
            raise Deleted(self.mapping.resource, str(id))
        return row

    async def soft_delete(self, id: uuid.UUID, *, expected_version: int | None) -> T:
        """Set delete_time (deleting a deleted row returns it unchanged); NotFound / EtagMismatch.

        With a ``delete_guard``, the row is first locked ``FOR UPDATE``: the one
        row-lock strength that conflicts with ``FOR KEY SHARE``, which writers of
        referencing rows take (foreign-key checks, and stock movements checking
        that what they move is live). A writer that got there first has
        committed before the lock is granted, so the guard (a new statement, a
        new snapshot) sees its rows; a later writer waits and then sees the row
        deleted. A plain UPDATE takes ``FOR NO KEY UPDATE``, which lets key-share
        lockers through.
        """
        with self.operation("soft_delete"):
            if self.delete_guard() is not None:
                locked = await self.fetch_one(self._select().where(self._id().eq(id)).for_update())
                if locked is None:
                    raise NotFound(self.mapping.resource, str(id))
            return await self._set_deleted(id, expected_version, deleting=True)

    async def undelete(self, id: uuid.UUID, *, expected_version: int | None) -> T:
        """Clear delete_time (a live row is returned unchanged); NotFound / EtagMismatch."""
        with self.operation("undelete"):
            return await self._set_deleted(id, expected_version, deleting=False)

    # hooks -----------------------------------------------------------------
    def delete_guard(self) -> Condition | None:
        """A condition a row must meet to be soft-deleted (None: always allowed)."""
        return None

    def delete_refused(self, id: uuid.UUID) -> DomainError:
        """The error when ``delete_guard`` refuses a delete."""
        return FailedPrecondition(f"{self.mapping.resource} {str(id)!r} cannot be deleted now")

    # helpers -----------------------------------------------------------------
    @property
    def _version_column(self) -> str:
        return _present(self.mapping.version_column)

    def _bump(self) -> dict[str, Any]:
        version = self._version_column
        return {version: col(version) + 1, _present(self.mapping.update_time_column): now()}

    def _version_is(self, expected_version: int | None) -> Condition | None:
        return None if expected_version is None else col(self._version_column).eq(expected_version)

    def _encode(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Values ready to bind: maps and lists in json columns become jsonb."""
        json_columns = self.mapping.json_columns
        return {
            name: Jsonb(value) if name in json_columns and isinstance(value, dict | list) else value
            for name, value in values.items()
        }

    async def _current(self, id: uuid.UUID, expected_version: int | None) -> Row:
        """The row as it is now; NotFound if missing, EtagMismatch if its version differs."""
        row = await self.fetch_one(self._select().where(self._id().eq(id)))
        if row is None:
            raise NotFound(self.mapping.resource, str(id))
        if expected_version is not None and row[self._version_column] != expected_version:
            raise EtagMismatch(self.mapping.resource, str(id))
        return row

    async def _insert(self, rows: Sequence[Mapping[str, Any]]) -> list[T]:
        if not rows:
            return []
        id_column = self.mapping.id_column
        # Ids are chosen here so results can be matched to inputs whatever order RETURNING uses.
        prepared = [{id_column: uuid.uuid4(), **self._encode(row)} for row in rows]
        statement = insert(self.mapping.table).values(*prepared).returning(*self._columns())
        try:
            returned = await self.fetch_all(statement)
        except psycopg.errors.UniqueViolation as exc:
            raise self._already_exists(exc, rows) from exc
        by_id = {row[id_column]: row for row in returned}
        return [self.mapping.from_row(by_id[row[id_column]]) for row in prepared]

    def _already_exists(self, exc: psycopg.Error, rows: Sequence[Mapping[str, Any]]) -> DomainError:
        """AlreadyExists naming the value as the caller spelled it (PostgreSQL reports lower(sku))."""
        error = translate_db_error(exc, self.unique_fields)
        if not isinstance(error, AlreadyExists):
            return error or AlreadyExists(self.mapping.resource, "key", "")
        for row in rows:
            value = row.get(error.field_name)
            if isinstance(value, str) and value.lower() == error.value.lower():
                return AlreadyExists(error.resource, error.field_name, value)
        return error

    async def _set_deleted(self, id: uuid.UUID, expected_version: int | None, *, deleting: bool) -> T:
        deleted_column = self.mapping.soft_delete_column
        if deleted_column is None:
            raise FailedPrecondition(f"{self.mapping.resource} does not support soft delete")
        state = col(deleted_column).is_null() if deleting else col(deleted_column).is_not_null()
        statement = (
            update(self.mapping.table)
            .set({deleted_column: now() if deleting else NULL})
            .set(self._bump())
            .where(
                self._id().eq(id),
                state,
                self._version_is(expected_version),
                self.delete_guard() if deleting else None,
            )
            .returning(*self._columns())
        )
        row = await self.fetch_one(statement)
        if row is not None:
            return self.mapping.from_row(row)
        current = await self._current(id, expected_version)
        if (current[deleted_column] is not None) == deleting:
            return self.mapping.from_row(current)
        raise self.delete_refused(id)


def _present(column: str | None) -> str:
    """A column ``__init_subclass__`` has checked is there (narrows the type)."""
    if column is None:
        raise TypeError("this mapping has no such column")
    return column
