"""WarehouseService servicer: proto <-> domain mapping and request validation only."""

from __future__ import annotations

from typing import Any

from grpc import aio

from inventory_client.v1 import warehouse_pb2 as pb
from inventory_client.v1 import warehouse_pb2_grpc
from inventory_server.api.convert import checked_request_id, mask_paths, parse_etag, parse_id, timestamp
from inventory_server.api.page_tokens import PageTokens
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.warehouse import WAREHOUSE_UPDATES, NewWarehouse, Warehouse
from inventory_server.services.warehouses import WarehouseService

Context = aio.ServicerContext[Any, Any]


def to_proto(w: Warehouse) -> pb.Warehouse:
    return pb.Warehouse(
        id=str(w.id),
        code=w.code,
        name=w.name,
        address=w.address,
        create_time=timestamp(w.create_time),
        update_time=timestamp(w.update_time),
        delete_time=timestamp(w.delete_time),
        etag=w.etag,
    )


def new_from_proto(w: pb.Warehouse) -> NewWarehouse:
    return NewWarehouse(code=w.code.strip(), name=w.name, address=w.address)


class WarehouseServicer(warehouse_pb2_grpc.WarehouseServiceServicer):
    """Implements inventory.v1.WarehouseService over ``WarehouseService``."""

    def __init__(self, warehouses: WarehouseService, *, page_tokens: PageTokens) -> None:
        self.warehouses = warehouses
        self.page_tokens = page_tokens

    async def GetWarehouse(
        self, request: pb.GetWarehouseRequest, context: Context
    ) -> pb.GetWarehouseResponse:
        warehouse = await self.warehouses.get(parse_id(request.id), replica_ok=True)
        return pb.GetWarehouseResponse(warehouse=to_proto(warehouse))

    async def ListWarehouses(
        self, request: pb.ListWarehousesRequest, context: Context
    ) -> pb.ListWarehousesResponse:
        query = ListQuery.from_request(
            request.page_size,
            self.page_tokens.open(request.page_token),
            request.filter,
            request.order_by,
            request.show_deleted,
        )
        page = await self.warehouses.list_warehouses(query)
        return pb.ListWarehousesResponse(
            warehouses=[to_proto(w) for w in page.items],
            next_page_token=self.page_tokens.seal(page.next_page_token),
        )

    async def CreateWarehouse(
        self, request: pb.CreateWarehouseRequest, context: Context
    ) -> pb.CreateWarehouseResponse:
        warehouse = await self.warehouses.create(
            new_from_proto(request.warehouse), checked_request_id(request.request_id)
        )
        return pb.CreateWarehouseResponse(warehouse=to_proto(warehouse))

    async def UpdateWarehouse(
        self, request: pb.UpdateWarehouseRequest, context: Context
    ) -> pb.UpdateWarehouseResponse:
        """Only name and address change; a mask naming code (immutable) or an output-only field is refused."""
        source = request.warehouse
        id = parse_id(source.id, "warehouse.id")
        paths = mask_paths(request.update_mask, WAREHOUSE_UPDATES)
        changes = {path: getattr(source, path) for path in paths}
        warehouse = await self.warehouses.update(id, changes, parse_etag(source.etag, "warehouse.etag"))
        return pb.UpdateWarehouseResponse(warehouse=to_proto(warehouse))

    async def DeleteWarehouse(
        self, request: pb.DeleteWarehouseRequest, context: Context
    ) -> pb.DeleteWarehouseResponse:
        warehouse = await self.warehouses.delete(parse_id(request.id), parse_etag(request.etag))
        return pb.DeleteWarehouseResponse(warehouse=to_proto(warehouse))
