"""A thin, friendly client over the generated stubs.

    from inventory_client import InventoryClient
    from inventory_client.v1 import product_pb2

    with InventoryClient("dns:///inventory.prod.svc:50051") as client:
        product = client.products.GetProduct(product_pb2.GetProductRequest(id=...)).product
        for product in client.iter_products(filter='currency_code = "EUR"'):
            ...

What it adds to the raw stubs, and nothing more:
- a default deadline on every call (``timeout=`` per call still wins);
- retries on UNAVAILABLE declared in the gRPC service config (never coded by hand);
- round-robin balancing across every address of a ``dns:///`` target;
- a fresh ``request_id`` on writes that have none, so that retries are idempotent;
- typed exceptions (``inventory_client.errors``) with the google.rpc details;
- TLS, mutual TLS and a bearer token (fixed or from a provider) on every call;
- ``iter_*`` methods that follow page tokens through the List methods;
- ``import_products``, which sends hundreds of products per ImportProducts message.

``AsyncInventoryClient`` is the same over grpc.aio for asyncio services. Both are
wired by ``_Client``: one list of stubs, one set of channel options and
credentials; they differ only in the channel module, the method wrapper and
whether the iterators are generators or async generators.
"""

from __future__ import annotations

import functools
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
)
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar, cast

import grpc
from grpc import aio

from inventory_client import _pages
from inventory_client._calls import AsyncMethod, Method, Session, Stub
from inventory_client._channel import (
    SERVICES,
    ChannelOptions,
    channel_credentials,
    channel_options,
    open_channel,
    service_config,
)
from inventory_client.auth import AsyncCallAuth, AsyncTokenProvider, CallAuth, TokenProvider
from inventory_client.imports import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_MESSAGE_BYTES,
    import_requests,
    import_requests_async,
)
from inventory_client.v1 import (
    audit_pb2_grpc,
    product_pb2,
    product_pb2_grpc,
    stats_pb2_grpc,
    stock_pb2,
    stock_pb2_grpc,
    transaction_pb2,
    transaction_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
    warehouse_pb2,
    warehouse_pb2_grpc,
)
from inventory_client.watch import watch_stock_changes, watch_stock_changes_async

__all__ = ["SERVICES", "AsyncInventoryClient", "InventoryClient", "service_config"]

# The one list of services a client exposes: attribute name -> generated stub class.
STUBS: tuple[tuple[str, Any], ...] = (
    ("products", product_pb2_grpc.ProductServiceStub),
    ("warehouses", warehouse_pb2_grpc.WarehouseServiceStub),
    ("users", user_pb2_grpc.UserServiceStub),
    ("stock", stock_pb2_grpc.StockServiceStub),
    ("transactions", transaction_pb2_grpc.TransactionServiceStub),
    ("stats", stats_pb2_grpc.StatsServiceStub),
    ("audit", audit_pb2_grpc.AuditServiceStub),
)


Provider = TypeVar("Provider", TokenProvider, AsyncTokenProvider)


class _Client(Generic[Provider]):
    """The wiring both clients share; subclasses name the channel module and the method wrapper.

    Generic in the token provider's type, so that each client's constructor is fully typed
    (the async one also takes ``async def`` providers) from this one definition.
    """

    _channel_module: ClassVar[Any]

    def __init__(
        self,
        target: str,
        *,
        tls: bool = False,
        root_certificates: bytes | None = None,
        client_cert: bytes | None = None,
        client_key: bytes | None = None,
        tls_server_name: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        token: str | None = None,
        token_provider: Provider | None = None,
        timeout: float | None = 10.0,
        max_attempts: int = 4,
        options: ChannelOptions | None = None,
        session_consistency: bool = True,
    ) -> None:
        secure = channel_credentials(
            tls=tls,
            root_certificates=root_certificates,
            client_cert=client_cert,
            client_key=client_key,
            credentials=credentials,
        )
        # Read-your-writes across this client's calls (docs/client.md); None = off.
        self.session: Session | None = Session() if session_consistency else None
        wrap = self._method_wrapper(timeout, token, token_provider, self.session)
        self.channel = open_channel(
            self._channel_module, target, secure, channel_options(max_attempts, tls_server_name, options)
        )
        for name, stub_class in STUBS:
            setattr(self, name, Stub(stub_class(self.channel), wrap))

    def _method_wrapper(
        self,
        timeout: float | None,
        token: str | None,
        token_provider: Provider | None,
        session: Session | None,
    ) -> Callable[[Any], Any]:
        raise NotImplementedError


class InventoryClient(_Client[TokenProvider]):
    """A channel to the inventory service, a stub per service and page iterators.

    Keyword arguments: ``tls`` (system roots), ``root_certificates``, ``client_cert`` and
    ``client_key`` (mutual TLS, PEM bytes), ``tls_server_name`` (override the name checked
    in the server's certificate), ``credentials`` (any grpc.ChannelCredentials instead),
    ``token`` or ``token_provider`` (``authorization: Bearer`` on every call, see
    ``inventory_client.auth``), ``timeout`` (default deadline in seconds, None = none),
    ``max_attempts`` (1 = no retries), ``options`` (extra channel options) and
    ``session_consistency`` (default on: the client sends the newest consistency token it has
    seen, so its reads see its writes even when the server reads from replicas; ``session``
    holds it, ``session.observe(token)`` adopts another client's).
    """

    _channel_module: ClassVar[Any] = grpc
    # Typed as the generated stubs: same methods, same signatures, plus the behaviour above.
    products: product_pb2_grpc.ProductServiceStub
    warehouses: warehouse_pb2_grpc.WarehouseServiceStub
    users: user_pb2_grpc.UserServiceStub
    stock: stock_pb2_grpc.StockServiceStub
    transactions: transaction_pb2_grpc.TransactionServiceStub
    stats: stats_pb2_grpc.StatsServiceStub
    audit: audit_pb2_grpc.AuditServiceStub

    def _method_wrapper(
        self,
        timeout: float | None,
        token: str | None,
        token_provider: TokenProvider | None,
        session: Session | None,
    ) -> Callable[[Any], Any]:
        return functools.partial(
            Method, timeout=timeout, auth=CallAuth(token, token_provider), session=session
        )

    def iter_products(
        self,
        *,
        filter: str = "",
        order_by: str = "",
        page_size: int = 0,
        show_deleted: bool = False,
        timeout: float | None = None,
    ) -> Iterator[product_pb2.Product]:
        """Every product matching ``filter``, page by page (``timeout`` is per page)."""
        request = product_pb2.ListProductsRequest(
            filter=filter, order_by=order_by, page_size=page_size, show_deleted=show_deleted
        )
        return _pages.items(self.products.ListProducts, request, "products", timeout)

    def iter_warehouses(
        self,
        *,
        filter: str = "",
        order_by: str = "",
        page_size: int = 0,
        show_deleted: bool = False,
        timeout: float | None = None,
    ) -> Iterator[warehouse_pb2.Warehouse]:
        """Every warehouse matching ``filter``, page by page."""
        request = warehouse_pb2.ListWarehousesRequest(
            filter=filter, order_by=order_by, page_size=page_size, show_deleted=show_deleted
        )
        return _pages.items(self.warehouses.ListWarehouses, request, "warehouses", timeout)

    def iter_users(
        self,
        *,
        filter: str = "",
        order_by: str = "",
        page_size: int = 0,
        show_deleted: bool = False,
        timeout: float | None = None,
    ) -> Iterator[user_pb2.User]:
        """Every user matching ``filter``, page by page."""
        request = user_pb2.ListUsersRequest(
            filter=filter, order_by=order_by, page_size=page_size, show_deleted=show_deleted
        )
        return _pages.items(self.users.ListUsers, request, "users", timeout)

    def iter_stock_levels(
        self,
        *,
        filter: str = "",
        order_by: str = "",
        page_size: int = 0,
        product_id: str = "",
        warehouse_id: str = "",
        below_reorder_point: bool = False,
        read_time: datetime | None = None,
        timeout: float | None = None,
    ) -> Iterator[stock_pb2.StockLevel]:
        """Every stock level matching the filters, page by page."""
        request = stock_pb2.ListStockLevelsRequest(
            filter=filter,
            order_by=order_by,
            page_size=page_size,
            product_id=product_id,
            warehouse_id=warehouse_id,
            below_reorder_point=below_reorder_point,
        )
        if read_time is not None:  # the levels as they were then (from the ledger)
            request.read_time.FromDatetime(read_time)
        return _pages.items(self.stock.ListStockLevels, request, "stock_levels", timeout)

    def iter_transactions(
        self, *, filter: str = "", order_by: str = "", page_size: int = 0, timeout: float | None = None
    ) -> Iterator[transaction_pb2.StockTransaction]:
        """Every ledger row matching ``filter``, page by page."""
        request = transaction_pb2.ListTransactionsRequest(
            filter=filter, order_by=order_by, page_size=page_size
        )
        return _pages.items(self.transactions.ListTransactions, request, "transactions", timeout)

    def import_products(
        self,
        products: Iterable[product_pb2.Product],
        *,
        all_or_nothing: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        timeout: float | None = None,
    ) -> product_pb2.ImportProductsResponse:
        """ProductService.ImportProducts, ``batch_size`` products per message (``inventory_client.imports``).

        ``products`` is read lazily as the stream is sent. ``timeout`` bounds the
        whole import (default: the client's deadline).
        """
        requests = import_requests(
            products,
            all_or_nothing=all_or_nothing,
            batch_size=batch_size,
            max_message_bytes=max_message_bytes,
        )
        kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        response: product_pb2.ImportProductsResponse = self.products.ImportProducts(requests, **kwargs)
        return response

    def watch_stock_changes(
        self, **options: Any
    ) -> Generator[stock_pb2.WatchStockChangesResponse, None, None]:
        """StockService.WatchStockChanges, resuming by itself (``inventory_client.watch``)."""
        method = self.stock.WatchStockChanges
        return watch_stock_changes(lambda request: method(request, timeout=None), **options)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> InventoryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncInventoryClient(_Client[AsyncTokenProvider]):
    """The same client over grpc.aio: ``await client.products.GetProduct(...)``,
    ``async for product in client.iter_products(...)``. ``token_provider`` may be ``async def``.
    """

    _channel_module: ClassVar[Any] = aio
    # Typed as the generated async stubs (they exist in the .pyi only; annotations are never evaluated).
    products: product_pb2_grpc.ProductServiceAsyncStub
    warehouses: warehouse_pb2_grpc.WarehouseServiceAsyncStub
    users: user_pb2_grpc.UserServiceAsyncStub
    stock: stock_pb2_grpc.StockServiceAsyncStub
    transactions: transaction_pb2_grpc.TransactionServiceAsyncStub
    stats: stats_pb2_grpc.StatsServiceAsyncStub
    audit: audit_pb2_grpc.AuditServiceAsyncStub

    def _method_wrapper(
        self,
        timeout: float | None,
        token: str | None,
        token_provider: AsyncTokenProvider | None,
        session: Session | None,
    ) -> Callable[[Any], Any]:
        return functools.partial(
            AsyncMethod, timeout=timeout, auth=AsyncCallAuth(token, token_provider), session=session
        )

    def iter_products(
        self,
        *,
        filter: str = "",
        order_by: str = "",
        page_size: int = 0,
        show_deleted: bool = False,
        timeout: float | None = None,
    ) -> AsyncIterator[product_pb2.Product]:
        """Every product matching ``filter``, page by page (``timeout`` is per page)."""
        request = product_pb2.ListProductsRequest(
            filter=filter, order_by=order_by, page_size=page_size, show_deleted=show_deleted
        )
        return _pages.async_items(self.products.ListProducts, request, "products", timeout)

    def iter_warehouses(
        self,
        *,
        filter: str = "",
        order_by: str = "",
        page_size: int = 0,
        show_deleted: bool = False,
        timeout: float | None = None,
    ) -> AsyncIterator[warehouse_pb2.Warehouse]:
        """Every warehouse matching ``filter``, page by page."""
        request = warehouse_pb2.ListWarehousesRequest(
            filter=filter, order_by=order_by, page_size=page_size, show_deleted=show_deleted
        )
        return _pages.async_items(self.warehouses.ListWarehouses, request, "warehouses", timeout)

    def iter_users(
        self,
        *,
        filter: str = "",
        order_by: str = "",
        page_size: int = 0,
        show_deleted: bool = False,
        timeout: float | None = None,
    ) -> AsyncIterator[user_pb2.User]:
        """Every user matching ``filter``, page by page."""
        request = user_pb2.ListUsersRequest(
            filter=filter, order_by=order_by, page_size=page_size, show_deleted=show_deleted
        )
        return _pages.async_items(self.users.ListUsers, request, "users", timeout)

    def iter_stock_levels(
        self,
        *,
        filter: str = "",
        order_by: str = "",
        page_size: int = 0,
        product_id: str = "",
        warehouse_id: str = "",
        below_reorder_point: bool = False,
        read_time: datetime | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[stock_pb2.StockLevel]:
        """Every stock level matching the filters, page by page."""
        request = stock_pb2.ListStockLevelsRequest(
            filter=filter,
            order_by=order_by,
            page_size=page_size,
            product_id=product_id,
            warehouse_id=warehouse_id,
            below_reorder_point=below_reorder_point,
        )
        if read_time is not None:  # the levels as they were then (from the ledger)
            request.read_time.FromDatetime(read_time)
        return _pages.async_items(self.stock.ListStockLevels, request, "stock_levels", timeout)

    def iter_transactions(
        self, *, filter: str = "", order_by: str = "", page_size: int = 0, timeout: float | None = None
    ) -> AsyncIterator[transaction_pb2.StockTransaction]:
        """Every ledger row matching ``filter``, page by page."""
        request = transaction_pb2.ListTransactionsRequest(
            filter=filter, order_by=order_by, page_size=page_size
        )
        return _pages.async_items(self.transactions.ListTransactions, request, "transactions", timeout)

    async def import_products(
        self,
        products: AsyncIterable[product_pb2.Product] | Iterable[product_pb2.Product],
        *,
        all_or_nothing: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        timeout: float | None = None,
    ) -> product_pb2.ImportProductsResponse:
        """The same for asyncio; ``products`` may be an async iterable."""
        requests = import_requests_async(
            products,
            all_or_nothing=all_or_nothing,
            batch_size=batch_size,
            max_message_bytes=max_message_bytes,
        )
        kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        response: product_pb2.ImportProductsResponse = await self.products.ImportProducts(requests, **kwargs)
        return response

    def watch_stock_changes(
        self, **options: Any
    ) -> AsyncGenerator[stock_pb2.WatchStockChangesResponse, None]:
        """StockService.WatchStockChanges, resuming by itself: ``async for change in ...``."""
        method = cast(AsyncMethod, self.stock.WatchStockChanges)
        return watch_stock_changes_async(lambda request: method.stream(request, timeout=None), **options)

    async def close(self) -> None:
        await self.channel.close(None)

    async def __aenter__(self) -> AsyncInventoryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
