"""How an entity maps onto its table: what BaseRepository needs to know."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from inventory_server.db.listing import ResourceFields

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TableMapping(Generic[T]):
    """A table and the entity built from its rows.

    ``columns`` are read back by every query (``RETURNING`` included);
    ``updatable`` lists what ``update`` may change; values of ``json_columns``
    are sent as jsonb; ``soft_delete_column`` enables soft delete and hides
    deleted rows from List unless ``show_deleted``.
    """

    table: str
    resource: str
    columns: tuple[str, ...]
    from_row: Callable[[Mapping[str, Any]], T]
    list_fields: ResourceFields
    updatable: frozenset[str] = frozenset()
    json_columns: frozenset[str] = frozenset()
    id_column: str = "id"
    version_column: str = "version"
    update_time_column: str = "update_time"
    soft_delete_column: str | None = "delete_time"

    def __post_init__(self) -> None:
        required = {self.id_column, self.version_column, self.update_time_column}
        if self.soft_delete_column:
            required.add(self.soft_delete_column)
        missing = required - set(self.columns)
        if missing:
            raise ValueError(f"{self.table} mapping lacks columns {sorted(missing)}")
        if self.list_fields.soft_delete_column != self.soft_delete_column:
            raise ValueError(f"{self.table}: list fields and mapping disagree on soft delete")
