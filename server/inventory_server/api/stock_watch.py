"""WatchStockChanges on the wire: stream items to proto; the stream itself is ``services.stock_watch``."""

from __future__ import annotations

from typing import Any

from grpc import aio

from inventory_client.v1 import stock_pb2 as pb
from inventory_server.api.convert import timestamp
from inventory_server.api.transactions import transaction_to_proto
from inventory_server.domain.stock import StockLevel
from inventory_server.domain.stock_changes import Heartbeat
from inventory_server.services.stock_watch import Item, StockWatchService, token_of

Context = aio.ServicerContext[Any, Any]


def _level(level: StockLevel) -> pb.StockLevel:
    return pb.StockLevel(
        product_id=str(level.product_id),
        warehouse_id=str(level.warehouse_id),
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.available,
        update_time=timestamp(level.update_time),
    )


def item_to_proto(item: Item) -> pb.WatchStockChangesResponse:
    if isinstance(item, Heartbeat):
        return pb.WatchStockChangesResponse(resume_token=token_of(item))
    return pb.WatchStockChangesResponse(
        transaction=transaction_to_proto(item.transaction),
        stock_levels=[_level(level) for level in item.levels],
        resume_token=token_of(item),
        below_reorder_point=item.below_reorder_point,
    )


async def watch_stock_changes(
    watch: StockWatchService, request: pb.WatchStockChangesRequest, context: Context
) -> None:
    """Open the stream (errors before the first message are the request's) and pump it to the caller."""

    async def write(item: Item) -> None:
        await context.write(item_to_proto(item))

    stream = await watch.open(request.filter, request.resume_token)
    async with stream:
        await stream.pump(write)
