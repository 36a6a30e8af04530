"""ApplyStockMovements on the wire: lines to domain commands (errors name ``lines[i]``), result to proto."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from inventory_client.v1 import stock_pb2 as pb
from inventory_server.api.convert import parse_id, performer
from inventory_server.api.transactions import transaction_to_proto
from inventory_server.domain.errors import FieldViolation, InvalidArgument
from inventory_server.domain.requests import MAX_REQUEST_ID_LENGTH
from inventory_server.domain.stock import (
    AdjustStock,
    ReceiveStock,
    ReserveStock,
    ShipStock,
    TransferStock,
)
from inventory_server.services.stock_documents import MAX_LINES, Line, StockDocumentService

_COMMANDS: dict[str, type[Any]] = {
    "receive": ReceiveStock,
    "ship": ShipStock,
    "transfer": TransferStock,
    "adjust": AdjustStock,
    "reserve": ReserveStock,
}
# Reported once, for the document, not for every line.
_DOCUMENT_FIELDS = ("request_id", "performed_by")


def _document_fields(request: pb.ApplyStockMovementsRequest, found: list[FieldViolation]) -> UUID:
    if not request.request_id:
        found.append(FieldViolation("request_id", "is required"))
    elif len(request.request_id) > MAX_REQUEST_ID_LENGTH:
        found.append(FieldViolation("request_id", f"must be at most {MAX_REQUEST_ID_LENGTH} characters"))
    try:
        # a user's own token may leave it empty: it is then that user (docs/security.md)
        return parse_id(performer(request.performed_by), "performed_by")
    except InvalidArgument as error:
        found += error.violations
        return UUID(int=0)


def document_lines(request: pb.ApplyStockMovementsRequest) -> list[Line]:
    """Every line as a domain command; one InvalidArgument names each bad field (``lines[i].kind.field``)."""
    from inventory_server.api.stock import stock_command  # the one proto -> command mapper (imports us)

    found: list[FieldViolation] = []
    performed_by = _document_fields(request, found)
    if not request.lines:
        found.append(FieldViolation("lines", "a document needs at least one line"))
    if len(request.lines) > MAX_LINES:
        found.append(FieldViolation("lines", f"at most {MAX_LINES} lines per document"))
    lines: list[Line] = []
    for index, line in enumerate(request.lines[:MAX_LINES]):
        kind = line.WhichOneof("movement")
        if kind is None:
            found.append(FieldViolation(f"lines[{index}]", "names no movement"))
            continue
        given: dict[str, Any] = {"request_id": request.request_id or "-", "performed_by": performed_by}
        if kind != "adjust":
            given["reference"] = request.reference
        try:
            lines.append(stock_command(_COMMANDS[kind], getattr(line, kind), **given))
        except InvalidArgument as error:
            found += [
                FieldViolation(f"lines[{index}].{kind}.{v.field}", v.description)
                for v in error.violations
                if v.field not in _DOCUMENT_FIELDS
            ]
    if found:
        raise InvalidArgument("invalid request: " + ", ".join(v.field for v in found), violations=found)
    return lines


async def apply_stock_movements(
    documents: StockDocumentService, request: pb.ApplyStockMovementsRequest
) -> pb.ApplyStockMovementsResponse:
    from inventory_server.api.stock import level_to_proto

    result = await documents.apply(request.request_id, document_lines(request))
    return pb.ApplyStockMovementsResponse(
        document_id=str(result.document_id),
        transactions=[transaction_to_proto(row) for row in result.transactions],
        stock_levels=[level_to_proto(level) for level in result.levels],
    )
