"""ApplyStockMovements: many movement lines in one transaction, under one request_id.

A document runs the same movement functions as the single RPCs
(``services.stock_movements``), in line order, inside one unit of work:

1. claim the request_id (a retry returns the stored result, as for every movement);
2. tag the transaction with a fresh document id: every ledger row it writes
   carries it (migration 0013), so ListTransactions can filter on it;
3. create the levels the lines touch that do not exist yet, then lock them
   all, both in primary-key order (warehouse_id, product_id): from then on
   every row lock a line takes is one the document already holds, so two
   documents touching the same levels in opposite orders wait for each other
   instead of deadlocking (and a deadlock anyway would be retried by the runner);
4. apply the lines; the first that fails rolls everything back and is named
   by its index (``lines[3]``) in the error;
5. store the result under the request_id; the write unit commits
   (``services.idempotency.write_once``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from inventory_server import context
from inventory_server.domain.errors import (
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from inventory_server.domain.stock import (
    AdjustStock,
    LevelKey,
    ReceiveStock,
    ReserveStock,
    ShipStock,
    StockLevel,
    TransferStock,
)
from inventory_server.services import stock_movements
from inventory_server.services.idempotency import write_once
from inventory_server.services.performers import check_performer
from inventory_server.services.stock_results import MovementResult
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

Line = ReceiveStock | ShipStock | TransferStock | AdjustStock | ReserveStock
MAX_LINES = 100
SCOPE = "inventory.v1.StockService/ApplyStockMovements"

_MOVEMENTS: dict[type[Any], Callable[[UnitOfWork, Any, str], Awaitable[MovementResult]]] = {
    ReceiveStock: stock_movements.receive,
    ShipStock: stock_movements.ship,
    TransferStock: stock_movements.transfer,
    AdjustStock: stock_movements.adjust,
    ReserveStock: stock_movements.reserve,
}


@dataclass(frozen=True, slots=True)
class DocumentResult:
    """Each line's result (ledger row, levels after it) and the document's id."""

    document_id: UUID
    lines: tuple[MovementResult, ...]

    @property
    def transactions(self) -> list[Any]:
        return [line.transaction for line in self.lines if line.transaction is not None]

    @property
    def levels(self) -> list[StockLevel]:
        """Every level the document touched as it left them, in primary-key order."""
        final: dict[LevelKey, StockLevel] = {}
        for line in self.lines:
            for level in line.levels:
                final[level.key] = level
        return [final[key] for key in sorted(final)]

    def to_json(self) -> dict[str, Any]:
        return {"document_id": str(self.document_id), "lines": [line.to_json() for line in self.lines]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentResult:
        return cls(UUID(data["document_id"]), tuple(MovementResult.from_json(line) for line in data["lines"]))


def line_keys(line: Line) -> list[LevelKey]:
    """The levels a line changes."""
    if isinstance(line, TransferStock):
        return [
            LevelKey(line.from_warehouse_id, line.product_id),
            LevelKey(line.to_warehouse_id, line.product_id),
        ]
    return [LevelKey(line.warehouse_id, line.product_id)]


def in_line(index: int, error: DomainError) -> DomainError:
    """``error`` as raised by line ``index``: fields and messages name ``lines[index]``."""
    prefix = f"lines[{index}]"
    if isinstance(error, InvalidArgument):
        violations = [FieldViolation(f"{prefix}.{v.field}", v.description) for v in error.violations]
        return InvalidArgument(
            f"{prefix}: {error.message}", violations=violations, reason=error.reason, metadata=error.metadata
        )
    if isinstance(error, NotFound):
        return NotFound(error.resource, error.key, message=f"{prefix}.{error.message}")
    if isinstance(error, FailedPrecondition):
        return FailedPrecondition(
            f"{prefix}: {error.message}",
            reason=error.reason,
            metadata={**error.metadata, "line": str(index)},
            violations=error.violations,
        )
    return error


def missing_reference(lines: Sequence[Line], key: LevelKey, error: NotFound) -> NotFound:
    """NOT_FOUND for a level that cannot exist, named after the first line that names it."""
    for index, line in enumerate(lines):
        if key not in line_keys(line):
            continue
        if error.resource == "product":
            field, value = "product_id", key.product_id
        elif isinstance(line, TransferStock):
            field = "from_warehouse_id" if line.from_warehouse_id == key.warehouse_id else "to_warehouse_id"
            value = key.warehouse_id
        else:
            field, value = "warehouse_id", key.warehouse_id
        message = f"lines[{index}].{field}: {error.resource} '{value}' not found"
        return NotFound(error.resource, str(value), message=message)
    return error


class StockDocumentService:
    """Applies movement documents (see the module docstring)."""

    def __init__(self, transactor: Transactor[UnitOfWork]) -> None:
        self.transactor = transactor

    async def apply(self, request_id: str, lines: Sequence[Line]) -> DocumentResult:
        """All lines or none; InvalidArgument for an empty or too long document."""
        if not lines:
            raise InvalidArgument.field("lines", "a document needs at least one line")
        if len(lines) > MAX_LINES:
            raise InvalidArgument.field("lines", f"at most {MAX_LINES} lines per document")
        found: list[FieldViolation] = []
        for index, line in enumerate(lines):
            found += [FieldViolation(f"lines[{index}].{v.field}", v.description) for v in line.violations()]
        if found:
            raise InvalidArgument("invalid request: " + ", ".join(v.field for v in found), violations=found)
        for line in lines:
            check_performer(line.performed_by)
        caller = context.principal.get()
        keys = sorted({key for line in lines for key in line_keys(line)})

        async def work(uow: UnitOfWork) -> DocumentResult:
            document_id = uuid4()
            await uow.transactions.tag_document(document_id)
            for key in keys:  # primary-key order, like the locks below
                try:
                    await uow.stock_levels.ensure(key)
                except NotFound as error:  # a product or warehouse that does not exist at all
                    raise missing_reference(lines, key, error) from error
            await uow.stock_levels.lock(keys)
            results: list[MovementResult] = []
            for index, line in enumerate(lines):
                try:
                    results.append(await _MOVEMENTS[type(line)](uow, line, caller))
                except DomainError as error:
                    raise in_line(index, error) from error
            return DocumentResult(document_id, tuple(results))

        async def replay(uow: UnitOfWork, stored: dict[str, Any]) -> DocumentResult:
            return DocumentResult.from_json(stored)

        return await write_once(
            self.transactor,
            work,
            scope=SCOPE,
            request_id=request_id,
            payload={"lines": [[type(line).__name__, dataclasses.asdict(line)] for line in lines]},
            encode=DocumentResult.to_json,
            replay=replay,
        )
