"""How an entity maps onto its table: what the repository bases need to know.

The columns are not listed by hand: an entity dataclass has one field per
column, with the column's name, so the field list *is* the column list (the
users table's ``password_hash`` has no field and so is never read back by
accident).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from inventory_server.db.listing import ResourceFields

T = TypeVar("T")


def entity_columns(entity: type[Any]) -> tuple[str, ...]:
    """The columns an entity dataclass is read from: one per field, in field order."""
    return tuple(f.name for f in dataclasses.fields(entity))


@dataclass(frozen=True, slots=True)
class TableMapping(Generic[T]):
    """A table and the entity dataclass built from its rows.

    ``columns`` (derived from ``entity``) are read back by every query
    (``RETURNING`` included); ``convert`` turns a stored value into the
    entity's (e.g. ``Role("admin")``); ``updatable`` lists what ``update``
    may change; values of ``json_columns`` are sent as jsonb;
    ``soft_delete_column`` enables soft delete and hides deleted rows from
    List unless ``show_deleted``. A read-only table (the ledger) has no
    ``version_column`` or ``update_time_column``.
    """

    table: str
    resource: str
    entity: type[T]
    list_fields: ResourceFields
    convert: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    updatable: frozenset[str] = frozenset()
    json_columns: frozenset[str] = frozenset()
    id_column: str = "id"
    version_column: str | None = "version"
    update_time_column: str | None = "update_time"
    soft_delete_column: str | None = "delete_time"
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", entity_columns(self.entity))
        required = {self.id_column, self.version_column, self.update_time_column, self.soft_delete_column}
        missing = {c for c in required if c is not None} - set(self.columns)
        if missing:
            raise ValueError(f"{self.table} mapping lacks columns {sorted(missing)}")
        unknown = (set(self.convert) | self.json_columns) - set(self.columns)
        if unknown:
            raise ValueError(f"{self.table} mapping names unknown columns {sorted(unknown)}")
        if self.list_fields.soft_delete_column != self.soft_delete_column:
            raise ValueError(f"{self.table}: list fields and mapping disagree on soft delete")

    def from_row(self, row: Mapping[str, Any]) -> T:
        """The entity for a row holding (at least) ``columns``."""
        convert = self.convert
        values = {name: convert[name](row[name]) if name in convert else row[name] for name in self.columns}
        return self.entity(**values)
