"""Movement summaries: what SummarizeMovements groups by, its time range rule, and a summary.

A summary adds up the ledger rows of one group (a product, a warehouse or a
level) written in ``[start, end)``. Each row is counted on each of its sides:
a transfer is an out-movement of its source and an in-movement of its
destination. ``total_in``/``total_out`` count only what changes ``on_hand``
(receipts, transfers, adjustments, shipments); ``by_type`` has every type,
reservations and releases included.

>>> from datetime import UTC, datetime, timedelta
>>> start = datetime(2024, 1, 1, tzinfo=UTC)
>>> range_violations(start, start + MAX_SUMMARY_RANGE)
[]
>>> range_violations(start, start - timedelta(seconds=1))
[('end_time', 'must not be before start_time')]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from uuid import UUID

from inventory_server.domain.transaction import TransactionType

# The longest range one request may summarize: a year (leap years included). Longer
# ranges scan too much of the ledger for one read; callers page by range instead.
MAX_SUMMARY_RANGE = timedelta(days=366)


class Grouping(Enum):
    """What one summary covers; the values are the grouping columns, in page order."""

    PRODUCT = ("product_id",)
    WAREHOUSE = ("warehouse_id",)
    PRODUCT_AND_WAREHOUSE = ("warehouse_id", "product_id")


def range_violations(start: datetime, end: datetime) -> list[tuple[str, str]]:
    """The (field, problem) pairs of a bad range; empty when ``[start, end)`` is allowed."""
    if end < start:
        return [("end_time", "must not be before start_time")]
    if end - start > MAX_SUMMARY_RANGE:
        return [("end_time", f"must be at most {MAX_SUMMARY_RANGE.days} days after start_time")]
    return []


@dataclass(frozen=True, slots=True)
class TypeTotal:
    """The units of one type on the to-side (in) and the from-side (out) of its rows."""

    type: TransactionType
    quantity_in: int
    quantity_out: int


@dataclass(frozen=True, slots=True)
class MovementSummary:
    """The movements of one group; the id it is not grouped by is None."""

    product_id: UUID | None
    warehouse_id: UUID | None
    total_in: int
    total_out: int
    by_type: list[TypeTotal] = field(default_factory=list)

    @property
    def net(self) -> int:
        return self.total_in - self.total_out
