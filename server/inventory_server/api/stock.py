"""StockService servicer: proto <-> domain mapping and request validation only.

Every bad field of a request is reported at once (one INVALID_ARGUMENT with a
BadRequest field violation per field); the rules themselves live in
``domain.stock``.
"""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from grpc import aio

from inventory_client.v1 import stock_pb2 as pb
from inventory_client.v1 import stock_pb2_grpc
from inventory_server.api.convert import parse_id, parse_timestamp, performer, timestamp
from inventory_server.api.page_tokens import PageTokens
from inventory_server.api.stock_documents import apply_stock_movements
from inventory_server.api.stock_watch import watch_stock_changes
from inventory_server.api.transactions import transaction_to_proto
from inventory_server.domain.errors import ErrorDetails, InvalidArgument
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.reservations import OpenReservation
from inventory_server.domain.stock import (
    AdjustStock,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    ShipStock,
    StockLevel,
    TransferStock,
)
from inventory_server.services.reservations import ReservationService
from inventory_server.services.stock import StockService
from inventory_server.services.stock_documents import StockDocumentService
from inventory_server.services.stock_results import MovementResult
from inventory_server.services.stock_watch import StockWatchService

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

    def duration(self, value: Duration) -> timedelta:
        """``value`` as a timedelta; one beyond timedelta's range (any int64 seconds may arrive)
        becomes the longest (or most negative) timedelta, which the command's own range check refuses."""
        try:
            return value.ToTimedelta()
        except OverflowError:
            return timedelta.max if value.seconds > 0 else timedelta.min

    def checked(self, command: C) -> C:
        self.errors.violations.extend(command.violations())
        self.errors.raise_if_any()
        return command


# The member of staff behind a movement: a user calling with their own token may leave it
# empty (it is then the token's user); services.stock checks who may name whom.
PERFORMER = "performed_by"


def stock_command(command_type: type[C], request: Message, **given: Any) -> C:
    """The domain command ``command_type`` built from the same-named fields of ``request``.

    Fields typed ``UUID`` are parsed as ids (``UUID | None``: an empty string
    is None); a field of a oneof that the request did not set is None; every
    other field is copied; ``given`` fills fields the request lacks (a document
    line takes request_id and performed_by from its document) and an empty
    ``reference``. Fields are read in the request's declaration order,
    so violations are reported in that order: every bad id and every broken
    rule of the command in one INVALID_ARGUMENT.
    """
    types = typing.get_type_hints(command_type)
    wanted = {field.name for field in dataclasses.fields(command_type)}
    fields = _Fields()
    values: dict[str, Any] = dict(given)
    for descriptor in request.DESCRIPTOR.fields:
        name = descriptor.name
        if name not in wanted:
            continue
        oneof = descriptor.containing_oneof
        if oneof is not None and request.WhichOneof(oneof.name) != name:
            values[name] = None
        elif name == PERFORMER:
            values[name] = fields.id(performer(getattr(request, name)), name)
        elif types[name] is UUID:
            values[name] = fields.id(getattr(request, name), name)
        elif types[name] == UUID | None:
            values[name] = fields.optional_id(getattr(request, name), name)
        elif types[name] == timedelta | None:  # a google.protobuf.Duration; unset is None
            values[name] = fields.duration(getattr(request, name)) if request.HasField(name) else None
        elif name in given and not getattr(request, name):
            continue  # an empty field of a line: the document's value
        else:
            values[name] = getattr(request, name)
    return fields.checked(command_type(**values))


def reservation_to_proto(reservation: OpenReservation) -> pb.Reservation:
    return pb.Reservation(
        id=str(reservation.id),
        product_id=str(reservation.product_id),
        warehouse_id=str(reservation.warehouse_id),
        quantity=reservation.quantity,
        remaining=reservation.remaining,
        reference=reservation.reference,
        expire_time=timestamp(reservation.expire_time),
        create_time=timestamp(reservation.create_time),
    )


def _read_time(
    request: pb.GetStockLevelRequest | pb.ListStockLevelsRequest, fields: _Fields
) -> datetime | None:
    """The request's read_time (None when unset); one in the future is a field violation."""
    if not request.HasField("read_time"):
        return None
    read_time = parse_timestamp(request.read_time, "read_time", fields.errors)
    if read_time is not None and read_time > datetime.now(UTC):
        fields.errors.add("read_time", "must not be in the future")
    return read_time


class StockServicer(stock_pb2_grpc.StockServiceServicer):
    """Implements inventory.v1.StockService over ``StockService``."""

    def __init__(
        self,
        stock: StockService,
        watch: StockWatchService | None = None,
        reservations: ReservationService | None = None,
        *,
        page_tokens: PageTokens,
        documents: StockDocumentService | None = None,
    ) -> None:
        self.stock = stock
        self.watch = watch
        self.reservations = reservations
        self.page_tokens = page_tokens
        self.documents = documents

    async def ApplyStockMovements(
        self, request: pb.ApplyStockMovementsRequest, context: Context
    ) -> pb.ApplyStockMovementsResponse:
        if self.documents is None:
            raise NotImplementedError
        return await apply_stock_movements(self.documents, request)

    async def ListReservations(
        self, request: pb.ListReservationsRequest, context: Context
    ) -> pb.ListReservationsResponse:
        if self.reservations is None:
            raise NotImplementedError
        query = ListQuery.from_request(
            request.page_size, self.page_tokens.open(request.page_token), request.filter, request.order_by
        )
        page = await self.reservations.list_reservations(query)
        return pb.ListReservationsResponse(
            reservations=[reservation_to_proto(r) for r in page.items],
            next_page_token=self.page_tokens.seal(page.next_page_token),
        )

    # grpc.aio lets a server-streaming handler write with context.write and return None (the
    # stubs only know generators): that way a write stuck on a consumer that does not read can
    # be abandoned (services.stock_watch), which a suspended generator could not.
    async def WatchStockChanges(  # type: ignore[override]
        self, request: pb.WatchStockChangesRequest, context: Context
    ) -> None:
        if self.watch is None:
            raise NotImplementedError
        await watch_stock_changes(self.watch, request, context)

    async def GetStockLevel(
        self, request: pb.GetStockLevelRequest, context: Context
    ) -> pb.GetStockLevelResponse:
        fields = _Fields()
        product_id = fields.id(request.product_id, "product_id")
        warehouse_id = fields.id(request.warehouse_id, "warehouse_id")
        read_time = _read_time(request, fields)
        fields.errors.raise_if_any()
        level = await self.stock.get_level(product_id, warehouse_id, read_time=read_time)
        return pb.GetStockLevelResponse(stock_level=level_to_proto(level))

    async def ListStockLevels(
        self, request: pb.ListStockLevelsRequest, context: Context
    ) -> pb.ListStockLevelsResponse:
        fields = _Fields()
        product_id = fields.optional_id(request.product_id, "product_id")
        warehouse_id = fields.optional_id(request.warehouse_id, "warehouse_id")
        read_time = _read_time(request, fields)
        fields.errors.raise_if_any()
        query = ListQuery.from_request(
            request.page_size, self.page_tokens.open(request.page_token), request.filter, request.order_by
        )
        page = await self.stock.list_levels(
            query,
            product_id=product_id,
            warehouse_id=warehouse_id,
            below_reorder_point=request.below_reorder_point,
            read_time=read_time,
        )
        return pb.ListStockLevelsResponse(
            stock_levels=[level_to_proto(level) for level in page.items],
            next_page_token=self.page_tokens.seal(page.next_page_token),
        )

    async def ReceiveStock(
        self, request: pb.ReceiveStockRequest, context: Context
    ) -> pb.ReceiveStockResponse:
        command = stock_command(ReceiveStock, request)
        result = await self.stock.receive(command)
        return pb.ReceiveStockResponse(**_single(result))

    async def ShipStock(self, request: pb.ShipStockRequest, context: Context) -> pb.ShipStockResponse:
        command = stock_command(ShipStock, request)
        result = await self.stock.ship(command)
        return pb.ShipStockResponse(**_single(result))

    async def TransferStock(
        self, request: pb.TransferStockRequest, context: Context
    ) -> pb.TransferStockResponse:
        command = stock_command(TransferStock, request)
        result = await self.stock.transfer(command)
        source, destination = result.levels
        return pb.TransferStockResponse(
            transaction=transaction_to_proto(result.transaction) if result.transaction else None,
            from_stock_level=level_to_proto(source),
            to_stock_level=level_to_proto(destination),
        )

    async def AdjustStock(self, request: pb.AdjustStockRequest, context: Context) -> pb.AdjustStockResponse:
        command = stock_command(AdjustStock, request)
        result = await self.stock.adjust(command)
        return pb.AdjustStockResponse(**_single(result))

    async def ReserveStock(
        self, request: pb.ReserveStockRequest, context: Context
    ) -> pb.ReserveStockResponse:
        command = stock_command(ReserveStock, request)
        result = await self.stock.reserve(command)
        return pb.ReserveStockResponse(**_single(result))

    async def ReleaseReservation(
        self, request: pb.ReleaseReservationRequest, context: Context
    ) -> pb.ReleaseReservationResponse:
        command = stock_command(ReleaseReservation, request)
        result = await self.stock.release(command)
        return pb.ReleaseReservationResponse(**_single(result))


def _single(result: MovementResult) -> dict[str, Any]:
    """The fields of a one-level movement response (no transaction for an adjustment that changed nothing)."""
    return {
        "transaction": transaction_to_proto(result.transaction) if result.transaction else None,
        "stock_level": level_to_proto(result.level),
    }
