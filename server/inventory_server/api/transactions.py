"""TransactionService servicer: ledger rows to proto, and request validation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from inventory_client.v1 import transaction_pb2 as pb
from inventory_client.v1 import transaction_pb2_grpc
from inventory_server.api.convert import parse_id, parse_timestamp, timestamp
from inventory_server.api.page_tokens import PageTokens
from inventory_server.domain.errors import ErrorDetails
from inventory_server.domain.movement_summary import Grouping, MovementSummary
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.transaction import StockTransaction
from inventory_server.services.transactions import TransactionService

Context = aio.ServicerContext[Any, Any]


def _id_or_empty(value: UUID | None) -> str:
    return "" if value is None else str(value)


def transaction_to_proto(row: StockTransaction) -> pb.StockTransaction:
    return pb.StockTransaction(
        id=str(row.id),
        type=pb.TransactionType.Value(row.type.api_name),
        product_id=str(row.product_id),
        from_warehouse_id=_id_or_empty(row.from_warehouse_id),
        to_warehouse_id=_id_or_empty(row.to_warehouse_id),
        quantity=row.quantity,
        reservation_id=_id_or_empty(row.reservation_id),
        reference=row.reference,
        reason=row.reason,
        performed_by=str(row.performed_by),
        caller=row.caller,
        request_id=row.request_id,
        create_time=timestamp(row.create_time),
        expire_time=timestamp(row.expire_time),
        document_id=_id_or_empty(row.document_id),
    )


_GROUPINGS = {
    pb.MOVEMENT_GROUPING_PRODUCT: Grouping.PRODUCT,
    pb.MOVEMENT_GROUPING_WAREHOUSE: Grouping.WAREHOUSE,
    pb.MOVEMENT_GROUPING_PRODUCT_AND_WAREHOUSE: Grouping.PRODUCT_AND_WAREHOUSE,
}


def summary_to_proto(summary: MovementSummary) -> pb.MovementSummary:
    return pb.MovementSummary(
        product_id=_id_or_empty(summary.product_id),
        warehouse_id=_id_or_empty(summary.warehouse_id),
        total_in=summary.total_in,
        total_out=summary.total_out,
        net=summary.net,
        by_type=[
            pb.MovementTypeTotal(
                type=pb.TransactionType.Value(total.type.api_name),
                quantity_in=total.quantity_in,
                quantity_out=total.quantity_out,
            )
            for total in summary.by_type
        ],
    )


def _required_time(request: pb.SummarizeMovementsRequest, field: str, errors: ErrorDetails) -> datetime:
    """The timestamp ``field`` (a violation when unset or beyond what a datetime holds)."""
    if not request.HasField(field):  # type: ignore[arg-type]  # the literal names are checked at runtime
        errors.add(field, "is required")
        return datetime.min.replace(tzinfo=UTC)
    value: Timestamp = getattr(request, field)
    parsed = parse_timestamp(value, field, errors)
    return parsed if parsed is not None else datetime.min.replace(tzinfo=UTC)


class TransactionServicer(transaction_pb2_grpc.TransactionServiceServicer):
    """Implements inventory.v1.TransactionService over ``TransactionService``."""

    def __init__(self, transactions: TransactionService, *, page_tokens: PageTokens) -> None:
        self.transactions = transactions
        self.page_tokens = page_tokens

    async def GetTransaction(
        self, request: pb.GetTransactionRequest, context: Context
    ) -> pb.GetTransactionResponse:
        row = await self.transactions.get(parse_id(request.id))
        return pb.GetTransactionResponse(transaction=transaction_to_proto(row))

    async def ListTransactions(
        self, request: pb.ListTransactionsRequest, context: Context
    ) -> pb.ListTransactionsResponse:
        query = ListQuery.from_request(
            request.page_size, self.page_tokens.open(request.page_token), request.filter, request.order_by
        )
        page = await self.transactions.list_transactions(query)
        return pb.ListTransactionsResponse(
            transactions=[transaction_to_proto(row) for row in page.items],
            next_page_token=self.page_tokens.seal(page.next_page_token),
        )

    async def SummarizeMovements(
        self, request: pb.SummarizeMovementsRequest, context: Context
    ) -> pb.SummarizeMovementsResponse:
        errors = ErrorDetails()
        start = _required_time(request, "start_time", errors)
        end = _required_time(request, "end_time", errors)
        if request.group_by not in _GROUPINGS:
            errors.add("group_by", "must be PRODUCT, WAREHOUSE or PRODUCT_AND_WAREHOUSE")
        errors.raise_if_any()
        grouping = _GROUPINGS[request.group_by]
        query = ListQuery.from_request(
            request.page_size, self.page_tokens.open(request.page_token), request.filter
        )
        page = await self.transactions.summarize_movements(grouping, start, end, query)
        return pb.SummarizeMovementsResponse(
            summaries=[summary_to_proto(summary) for summary in page.items],
            next_page_token=self.page_tokens.seal(page.next_page_token),
        )
