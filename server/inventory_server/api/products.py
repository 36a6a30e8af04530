"""ProductService servicer: proto <-> domain mapping and request validation only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from grpc import aio

from inventory_client.v1 import product_pb2 as pb
from inventory_client.v1 import product_pb2_grpc
from inventory_server.api.convert import (
    checked_request_id,
    mask_paths,
    parse_etag,
    parse_id,
    parse_ids,
    timestamp,
)
from inventory_server.api.page_tokens import PageTokens
from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.product import PRODUCT_UPDATES, NewProduct, Product
from inventory_server.services.product_import import ImportResult, ImportRow, ProductImportService
from inventory_server.services.products import MAX_BATCH_SIZE, ProductService

Context = aio.ServicerContext[Any, Any]


def to_proto(p: Product) -> pb.Product:
    return pb.Product(
        id=str(p.id),
        sku=p.sku,
        name=p.name,
        description=p.description,
        unit_price_minor=p.unit_price_minor,
        currency_code=p.currency_code,
        reorder_point=p.reorder_point,
        attributes=p.attributes,
        create_time=timestamp(p.create_time),
        update_time=timestamp(p.update_time),
        delete_time=timestamp(p.delete_time),
        etag=p.etag,
    )


def new_from_proto(p: pb.Product) -> NewProduct:
    return NewProduct(
        sku=p.sku.strip(),
        name=p.name,
        description=p.description,
        unit_price_minor=p.unit_price_minor,
        currency_code=p.currency_code,
        reorder_point=p.reorder_point,
        attributes=dict(p.attributes),
    )


def message_rows(request: pb.ImportProductsRequest) -> list[pb.Product]:
    """A message's rows in stream order: ``product`` (when set), then ``products``.

    A message with neither is one empty row, as before ``products`` existed
    (it is rejected like any product without a sku).
    """
    if not request.products:
        return [request.product]
    if request.HasField("product"):
        return [request.product, *request.products]
    return list(request.products)


async def _import_rows(
    first: pb.ImportProductsRequest, rest: AsyncIterator[pb.ImportProductsRequest]
) -> AsyncIterator[ImportRow]:
    """The stream as import rows, parsed one message at a time."""
    for product in message_rows(first):
        yield ImportRow(product.sku, new_from_proto(product))
    async for request in rest:
        for product in message_rows(request):
            yield ImportRow(product.sku, new_from_proto(product))


def _import_response(result: ImportResult) -> pb.ImportProductsResponse:
    return pb.ImportProductsResponse(
        inserted_count=result.inserted,
        updated_count=result.updated,
        rejected_count=result.rejected_count,
        rejected=[pb.RejectedProduct(index=r.index, sku=r.sku, reason=r.reason) for r in result.rejected],
    )


def _check_batch_size(size: int, field: str) -> None:
    if size > MAX_BATCH_SIZE:
        raise InvalidArgument.field(field, f"at most {MAX_BATCH_SIZE} items per call")


class ProductServicer(product_pb2_grpc.ProductServiceServicer):
    """Implements inventory.v1.ProductService over ``ProductService`` and ``ProductImportService``."""

    def __init__(
        self,
        products: ProductService,
        importer: ProductImportService | None = None,
        *,
        page_tokens: PageTokens,
    ) -> None:
        self.products = products
        self.page_tokens = page_tokens
        self.importer = importer or ProductImportService(products.transactor, products.cache)

    async def GetProduct(self, request: pb.GetProductRequest, context: Context) -> pb.GetProductResponse:
        product = await self.products.get(parse_id(request.id))
        return pb.GetProductResponse(product=to_proto(product))

    async def BatchGetProducts(
        self, request: pb.BatchGetProductsRequest, context: Context
    ) -> pb.BatchGetProductsResponse:
        # The size first: a thousand ids are parsed only when they may be used.
        _check_batch_size(len(request.ids), "ids")
        products = await self.products.batch_get(parse_ids(list(request.ids)))
        return pb.BatchGetProductsResponse(products=[to_proto(p) for p in products])

    async def ListProducts(
        self, request: pb.ListProductsRequest, context: Context
    ) -> pb.ListProductsResponse:
        query = ListQuery.from_request(
            request.page_size,
            self.page_tokens.open(request.page_token),
            request.filter,
            request.order_by,
            request.show_deleted,
        )
        page = await self.products.list_products(query)
        return pb.ListProductsResponse(
            products=[to_proto(p) for p in page.items],
            next_page_token=self.page_tokens.seal(page.next_page_token),
        )

    async def CreateProduct(
        self, request: pb.CreateProductRequest, context: Context
    ) -> pb.CreateProductResponse:
        product = await self.products.create(
            new_from_proto(request.product), checked_request_id(request.request_id)
        )
        return pb.CreateProductResponse(product=to_proto(product))

    async def BatchCreateProducts(
        self, request: pb.BatchCreateProductsRequest, context: Context
    ) -> pb.BatchCreateProductsResponse:
        _check_batch_size(len(request.requests), "requests")
        news = [new_from_proto(r.product) for r in request.requests]
        products = await self.products.batch_create(news, checked_request_id(request.request_id))
        return pb.BatchCreateProductsResponse(products=[to_proto(p) for p in products])

    async def UpdateProduct(
        self, request: pb.UpdateProductRequest, context: Context
    ) -> pb.UpdateProductResponse:
        source = request.product
        id = parse_id(source.id, "product.id")
        paths = mask_paths(request.update_mask, PRODUCT_UPDATES)
        values = new_from_proto(source)
        changes = {path: getattr(values, path) for path in paths}
        product = await self.products.update(id, changes, parse_etag(source.etag, "product.etag"))
        return pb.UpdateProductResponse(product=to_proto(product))

    async def DeleteProduct(
        self, request: pb.DeleteProductRequest, context: Context
    ) -> pb.DeleteProductResponse:
        product = await self.products.delete(parse_id(request.id), parse_etag(request.etag))
        return pb.DeleteProductResponse(product=to_proto(product))

    async def UndeleteProduct(
        self, request: pb.UndeleteProductRequest, context: Context
    ) -> pb.UndeleteProductResponse:
        product = await self.products.undelete(parse_id(request.id), parse_etag(request.etag))
        return pb.UndeleteProductResponse(product=to_proto(product))

    async def ImportProducts(
        self, request_iterator: AsyncIterator[pb.ImportProductsRequest], context: Context
    ) -> pb.ImportProductsResponse:
        requests = aiter(request_iterator)
        first = await anext(requests, None)
        if first is None:
            return pb.ImportProductsResponse()
        result = await self.importer.import_products(
            _import_rows(first, requests), all_or_nothing=first.all_or_nothing
        )
        return _import_response(result)
