"""The allow-list a resource exposes to List: which fields filter and sort, and how.

User text never names a column directly: a field name is looked up here and
only the ``column`` of a known :class:`FieldSpec` reaches the SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from inventory_server.db.query import Column, col

FieldType = Literal["text", "int", "bool", "timestamp", "uuid", "enum", "json"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One list field: its public ``name``, the ``column`` behind it and its type.

    ``json`` fields are string maps stored as jsonb: they filter by key
    (``attributes.color = "red"``, ``attributes:color``) and never sort.
    """

    name: str
    column: str
    type: FieldType
    filterable: bool = True
    sortable: bool = False
    enum_values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.type == "enum" and not self.enum_values:
            raise ValueError(f"enum field {self.name} needs its values")
        if self.type == "json" and self.sortable:
            raise ValueError(f"json field {self.name} cannot sort")

    @property
    def expr(self) -> Column:
        return col(self.column)


# The key of most resources: their id column.
ID_FIELD = FieldSpec("id", "id", "uuid", sortable=True)


@dataclass(frozen=True, slots=True)
class ResourceFields:
    """Everything the list translator knows about one resource.

    ``default_order`` is an order_by string used when the request has none;
    ``key`` (one field, or several for a composite key such as a stock
    level's warehouse and product) breaks ties and ends every cursor;
    ``soft_delete_column``, when set, hides rows with a value there unless
    ``show_deleted``. ``show_deleted_in_token`` is False only for stock
    levels: their page tokens were fingerprinted without it before levels
    shared this planner, and tokens already handed out must stay valid.
    """

    resource: str
    fields: tuple[FieldSpec, ...]
    key: tuple[FieldSpec, ...] = field(default_factory=lambda: (ID_FIELD,))
    default_order: str = ""
    soft_delete_column: str | None = "delete_time"
    show_deleted_in_token: bool = True

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate list field names for {self.resource}")
        if not self.key:
            raise ValueError(f"{self.resource} needs a key to order pages by")

    def find(self, name: str) -> FieldSpec | None:
        """The field called ``name``, or None."""
        for spec in self._all():
            if spec.name == name:
                return spec
        return None

    def filterable_names(self) -> list[str]:
        return sorted(f.name for f in self._all() if f.filterable)

    def sortable_names(self) -> list[str]:
        return sorted(f.name for f in self._all() if f.sortable)

    def _all(self) -> Iterable[FieldSpec]:
        yield from self.fields
        names = {f.name for f in self.fields}
        yield from (spec for spec in self.key if spec.name not in names)
