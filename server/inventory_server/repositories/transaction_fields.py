"""The ledger's ``type`` as a list field: compared with a type name in any accepted spelling.

Shared by ListTransactions and SummarizeMovements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inventory_server.db.listing import FieldSpec
from inventory_server.db.query import Column, ComparisonOp, Condition
from inventory_server.domain.transaction import TransactionType


@dataclass(frozen=True, slots=True)
class TypeColumn(Column):
    """The ``type`` column compared with a type name in any accepted spelling."""

    def compare(self, op: ComparisonOp, other: Any) -> Condition:
        kind = TransactionType.from_name(str(other))
        if kind is None:
            raise ValueError(f"unknown transaction type {other!r}")
        return Column(self.name, self.qualifier).compare(op, kind.value)


@dataclass(frozen=True, slots=True)
class TypeField(FieldSpec):
    @property
    def expr(self) -> Column:
        return TypeColumn(self.column)


TYPE_NAMES = (
    *(kind.api_name for kind in TransactionType),
    *(kind.name for kind in TransactionType),
)
