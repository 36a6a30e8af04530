"""A thin, friendly client over the generated stubs.

    from inventory_client import InventoryClient
    from inventory_client.v1 import product_pb2

    with InventoryClient("dns:///inventory.prod.svc:50051") as client:
        product = client.products.GetProduct(product_pb2.GetProductRequest(id=...)).product

What it adds to the raw stubs, and nothing more:
- a default deadline on every call (``timeout=`` per call still wins);
- retries on UNAVAILABLE declared in the gRPC service config (never coded by hand);
- round-robin balancing across every address of a ``dns:///`` target;
- a fresh ``request_id`` on writes that have none, so that retries are idempotent;
- typed exceptions (``inventory_client.errors``) with the google.rpc details.

``AsyncInventoryClient`` is the same over grpc.aio for asyncio services.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, cast

import grpc
from grpc import aio

from inventory_client.errors import from_rpc_error
from inventory_client.v1 import (
    product_pb2_grpc,
    stats_pb2_grpc,
    stock_pb2_grpc,
    transaction_pb2_grpc,
    user_pb2_grpc,
    warehouse_pb2_grpc,
)

SERVICES = (
    "inventory.v1.ProductService",
    "inventory.v1.WarehouseService",
    "inventory.v1.UserService",
    "inventory.v1.StockService",
    "inventory.v1.TransactionService",
    "inventory.v1.StatsService",
)


def service_config(max_attempts: int = 4) -> str:
    """The gRPC service config: retry UNAVAILABLE with backoff (max_attempts 1 = no retries), round robin."""
    method: dict[str, Any] = {"name": [{"service": name} for name in SERVICES]}
    if max_attempts >= 2:  # gRPC refuses a retry policy with fewer than 2 attempts
        method["retryPolicy"] = {
            "maxAttempts": max_attempts,
            "initialBackoff": "0.1s",
            "maxBackoff": "2s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
    config: dict[str, Any] = {"loadBalancingConfig": [{"round_robin": {}}], "methodConfig": [method]}
    return json.dumps(config)


def _with_request_id(request: Any) -> Any:
    """The request with a fresh request_id when it has an empty one (a copy: the caller's stays as is)."""
    descriptor = getattr(request, "DESCRIPTOR", None)  # a request iterator (streaming) has none
    if descriptor is None or "request_id" not in descriptor.fields_by_name or request.request_id:
        return request
    filled = type(request)()
    filled.CopyFrom(request)
    filled.request_id = str(uuid.uuid4())
    return filled


class _Method:
    """One stub method with a default deadline, request_id filling and typed errors."""

    def __init__(self, call: Any, timeout: float | None) -> None:
        self._call = call
        self._timeout = timeout

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        try:
            return self._call(_with_request_id(request), **kwargs)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error


class _AsyncMethod(_Method):
    """The same for grpc.aio stubs: awaits the call."""

    async def __call__(self, request: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        try:
            return await self._call(_with_request_id(request), **kwargs)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error


class _Stub:
    """Wraps every method of a generated stub in ``method``."""

    def __init__(self, stub: Any, timeout: float | None, method: type[_Method]) -> None:
        self._stub = stub
        self._timeout = timeout
        self._method = method

    def __getattr__(self, name: str) -> Any:
        return self._method(getattr(self._stub, name), self._timeout)


def _channel_options(max_attempts: int, options: list[tuple[str, Any]] | None) -> list[tuple[str, Any]]:
    return [
        ("grpc.service_config", service_config(max_attempts)),
        ("grpc.enable_retries", 1),
        *(options or []),
    ]


def _credentials(
    tls: bool, root_certificates: bytes | None, credentials: grpc.ChannelCredentials | None
) -> grpc.ChannelCredentials | None:
    if credentials is None and (tls or root_certificates is not None):
        return grpc.ssl_channel_credentials(root_certificates=root_certificates)
    return credentials


def _wrap(stub_class: Any, channel: Any, timeout: float | None, method: type[_Method]) -> Any:
    return _Stub(stub_class(channel), timeout, method)


class InventoryClient:
    """A channel to the inventory service and a stub per service."""

    def __init__(
        self,
        target: str,
        *,
        tls: bool = False,
        root_certificates: bytes | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        timeout: float | None = 10.0,
        max_attempts: int = 4,
        options: list[tuple[str, Any]] | None = None,
    ) -> None:
        channel_options = _channel_options(max_attempts, options)
        secure = _credentials(tls, root_certificates, credentials)
        if secure is not None:
            self.channel = grpc.secure_channel(target, secure, options=channel_options)
        else:
            self.channel = grpc.insecure_channel(target, options=channel_options)
        # Typed as the generated stubs: same methods, same signatures, plus the behaviour above.
        ch, m = self.channel, _Method
        self.products = cast(
            product_pb2_grpc.ProductServiceStub, _wrap(product_pb2_grpc.ProductServiceStub, ch, timeout, m)
        )
        self.warehouses = cast(
            warehouse_pb2_grpc.WarehouseServiceStub,
            _wrap(warehouse_pb2_grpc.WarehouseServiceStub, ch, timeout, m),
        )
        self.users = cast(user_pb2_grpc.UserServiceStub, _wrap(user_pb2_grpc.UserServiceStub, ch, timeout, m))
        self.stock = cast(
            stock_pb2_grpc.StockServiceStub, _wrap(stock_pb2_grpc.StockServiceStub, ch, timeout, m)
        )
        self.transactions = cast(
            transaction_pb2_grpc.TransactionServiceStub,
            _wrap(transaction_pb2_grpc.TransactionServiceStub, ch, timeout, m),
        )
        self.stats = cast(
            stats_pb2_grpc.StatsServiceStub, _wrap(stats_pb2_grpc.StatsServiceStub, ch, timeout, m)
        )

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> InventoryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncInventoryClient:
    """The same client over grpc.aio, for asyncio services: ``await client.products.GetProduct(...)``."""

    def __init__(
        self,
        target: str,
        *,
        tls: bool = False,
        root_certificates: bytes | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        timeout: float | None = 10.0,
        max_attempts: int = 4,
        options: list[tuple[str, Any]] | None = None,
    ) -> None:
        channel_options = _channel_options(max_attempts, options)
        secure = _credentials(tls, root_certificates, credentials)
        if secure is not None:
            self.channel = aio.secure_channel(target, secure, options=channel_options)
        else:
            self.channel = aio.insecure_channel(target, options=channel_options)
        # Typed as the generated async stubs (they exist in the .pyi only, hence the strings).
        ch, m = self.channel, _AsyncMethod
        self.products = cast(
            "product_pb2_grpc.ProductServiceAsyncStub",
            _wrap(product_pb2_grpc.ProductServiceStub, ch, timeout, m),
        )
        self.warehouses = cast(
            "warehouse_pb2_grpc.WarehouseServiceAsyncStub",
            _wrap(warehouse_pb2_grpc.WarehouseServiceStub, ch, timeout, m),
        )
        self.users = cast(
            "user_pb2_grpc.UserServiceAsyncStub", _wrap(user_pb2_grpc.UserServiceStub, ch, timeout, m)
        )
        self.stock = cast(
            "stock_pb2_grpc.StockServiceAsyncStub", _wrap(stock_pb2_grpc.StockServiceStub, ch, timeout, m)
        )
        self.transactions = cast(
            "transaction_pb2_grpc.TransactionServiceAsyncStub",
            _wrap(transaction_pb2_grpc.TransactionServiceStub, ch, timeout, m),
        )
        self.stats = cast(
            "stats_pb2_grpc.StatsServiceAsyncStub", _wrap(stats_pb2_grpc.StatsServiceStub, ch, timeout, m)
        )

    async def close(self) -> None:
        await self.channel.close(None)

    async def __aenter__(self) -> AsyncInventoryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
