"""StockService servicer: proto <-> domain mapping and request validation only.

Every bad field of a request is reported at once (one INVALID_ARGUMENT with a
BadRequest field violation per field); the rules themselves live in
``domain.stock``.
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from grpc import aio

from inventory_client.v1 import stock_pb2 as pb
from inventory_client.v1 import stock_pb2_grpc
from inventory_server.api.convert import parse_id, timestamp
from inventory_server.api.transactions import transaction_to_proto
from inventory_server.domain.errors import ErrorDetails, InvalidArgument
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.stock import (
    AdjustStock,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    ShipStock,
    StockLevel,
    TransferStock,
)
from inventory_server.services.stock import StockService
from inventory_server.services.stock_results import MovementResult

Context = aio.ServicerContext[Any, Any]
C = TypeVar("C", ReceiveStock, ShipStock, TransferStock, AdjustStock, ReserveStock, ReleaseReservation)


def level_to_proto(level: StockLevel) -> pb.StockLevel:
    return pb.StockLevel(
        product_id=str(level.product_id),
        warehouse_id=str(level.warehouse_id),
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.available,
        update_time=timestamp(level.update_time),
    )


class _Fields:
    """Parses request ids, collecting every violation; ``checked`` adds the command's own."""

    def __init__(self) -> None:
        self.errors = ErrorDetails()
        self._placeholders = 0

    def id(self, value: str, field: str) -> UUID:
        try:
            return parse_id(value, field)
        except InvalidArgument as error:
            self.errors.violations.extend(error.violations)
            self._placeholders += 1  # distinct, so a bad id never trips "must differ" checks
            return UUID(int=self._placeholders)

    def optional_id(self, value: str, field: str) -> UUID | None:
        return self.id(value, field) if value else None

    def checked(self, command: C) -> C:
        self.errors.violations.extend(command.violations())
        self.errors.raise_if_any()
        return command


class StockServicer(stock_pb2_grpc.StockServiceServicer):
    """Implements inventory.v1.StockService over ``StockService``."""

    def __init__(self, stock: StockService) -> None:
        self.stock = stock

    async def GetStockLevel(
        self, request: pb.GetStockLevelRequest, context: Context
    ) -> pb.GetStockLevelResponse:
        fields = _Fields()
        product_id = fields.id(request.product_id, "product_id")
        warehouse_id = fields.id(request.warehouse_id, "warehouse_id")
        fields.errors.raise_if_any()
        level = await self.stock.get_level(product_id, warehouse_id)
        return pb.GetStockLevelResponse(stock_level=level_to_proto(level))

    async def ListStockLevels(
        self, request: pb.ListStockLevelsRequest, context: Context
    ) -> pb.ListStockLevelsResponse:
        fields = _Fields()
        product_id = fields.optional_id(request.product_id, "product_id")
        warehouse_id = fields.optional_id(request.warehouse_id, "warehouse_id")
        fields.errors.raise_if_any()
        query = ListQuery.from_request(
            request.page_size, request.page_token, request.filter, request.order_by
        )
        page = await self.stock.list_levels(
            query,
            product_id=product_id,
            warehouse_id=warehouse_id,
            below_reorder_point=request.below_reorder_point,
        )
        return pb.ListStockLevelsResponse(
            stock_levels=[level_to_proto(level) for level in page.items],
            next_page_token=page.next_page_token,
        )

    async def ReceiveStock(
        self, request: pb.ReceiveStockRequest, context: Context
    ) -> pb.ReceiveStockResponse:
        fields = _Fields()
        command = fields.checked(
            ReceiveStock(
                product_id=fields.id(request.product_id, "product_id"),
                warehouse_id=fields.id(request.warehouse_id, "warehouse_id"),
                quantity=request.quantity,
                request_id=request.request_id,
                performed_by=fields.id(request.performed_by, "performed_by"),
                reference=request.reference,
            )
        )
        result = await self.stock.receive(command)
        return pb.ReceiveStockResponse(**_single(result))

    async def ShipStock(self, request: pb.ShipStockRequest, context: Context) -> pb.ShipStockResponse:
        fields = _Fields()
        command = fields.checked(
            ShipStock(
                product_id=fields.id(request.product_id, "product_id"),
                warehouse_id=fields.id(request.warehouse_id, "warehouse_id"),
                quantity=request.quantity,
                request_id=request.request_id,
                performed_by=fields.id(request.performed_by, "performed_by"),
                reference=request.reference,
                reservation_id=fields.optional_id(request.reservation_id, "reservation_id"),
            )
        )
        result = await self.stock.ship(command)
        return pb.ShipStockResponse(**_single(result))

    async def TransferStock(
        self, request: pb.TransferStockRequest, context: Context
    ) -> pb.TransferStockResponse:
        fields = _Fields()
        command = fields.checked(
            TransferStock(
                product_id=fields.id(request.product_id, "product_id"),
                from_warehouse_id=fields.id(request.from_warehouse_id, "from_warehouse_id"),
                to_warehouse_id=fields.id(request.to_warehouse_id, "to_warehouse_id"),
                quantity=request.quantity,
                request_id=request.request_id,
                performed_by=fields.id(request.performed_by, "performed_by"),
                reference=request.reference,
            )
        )
        result = await self.stock.transfer(command)
        source, destination = result.levels
        return pb.TransferStockResponse(
            transaction=transaction_to_proto(result.transaction) if result.transaction else None,
            from_stock_level=level_to_proto(source),
            to_stock_level=level_to_proto(destination),
        )

    async def AdjustStock(self, request: pb.AdjustStockRequest, context: Context) -> pb.AdjustStockResponse:
        fields = _Fields()
        kind = request.WhichOneof("adjustment")
        command = fields.checked(
            AdjustStock(
                product_id=fields.id(request.product_id, "product_id"),
                warehouse_id=fields.id(request.warehouse_id, "warehouse_id"),
                counted_quantity=request.counted_quantity if kind == "counted_quantity" else None,
                delta=request.delta if kind == "delta" else None,
                reason=request.reason,
                request_id=request.request_id,
                performed_by=fields.id(request.performed_by, "performed_by"),
            )
        )
        result = await self.stock.adjust(command)
        return pb.AdjustStockResponse(**_single(result))

    async def ReserveStock(
        self, request: pb.ReserveStockRequest, context: Context
    ) -> pb.ReserveStockResponse:
        fields = _Fields()
        command = fields.checked(
            ReserveStock(
                product_id=fields.id(request.product_id, "product_id"),
                warehouse_id=fields.id(request.warehouse_id, "warehouse_id"),
                quantity=request.quantity,
                request_id=request.request_id,
                performed_by=fields.id(request.performed_by, "performed_by"),
                reference=request.reference,
            )
        )
        result = await self.stock.reserve(command)
        return pb.ReserveStockResponse(**_single(result))

    async def ReleaseReservation(
        self, request: pb.ReleaseReservationRequest, context: Context
    ) -> pb.ReleaseReservationResponse:
        fields = _Fields()
        command = fields.checked(
            ReleaseReservation(
                reservation_id=fields.id(request.reservation_id, "reservation_id"),
                quantity=request.quantity,
                request_id=request.request_id,
                performed_by=fields.id(request.performed_by, "performed_by"),
            )
        )
        result = await self.stock.release(command)
        return pb.ReleaseReservationResponse(**_single(result))


def _single(result: MovementResult) -> dict[str, Any]:
    """The fields of a one-level movement response (no transaction for an adjustment that changed nothing)."""
    return {
        "transaction": transaction_to_proto(result.transaction) if result.transaction else None,
        "stock_level": level_to_proto(result.level),
    }
