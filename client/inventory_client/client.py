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
"""

from __future__ import annotations

import json
import uuid
from typing import Any, cast

import grpc

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


class _Method:
    """One stub method with a default deadline, request_id filling and typed errors."""

    def __init__(self, call: Any, timeout: float | None) -> None:
        self._call = call
        self._timeout = timeout

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        if _has_empty_request_id(request):
            filled = type(request)()
            filled.CopyFrom(request)
            filled.request_id = str(uuid.uuid4())
            request = filled  # the caller's message stays as it was
        try:
            return self._call(request, **kwargs)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error


def _has_empty_request_id(request: Any) -> bool:
    descriptor = getattr(request, "DESCRIPTOR", None)
    return descriptor is not None and "request_id" in descriptor.fields_by_name and not request.request_id


class _Stub:
    """Wraps every unary method of a generated stub in ``_Method``; streaming methods pass through."""

    def __init__(self, stub: Any, timeout: float | None) -> None:
        self._stub = stub
        self._timeout = timeout

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._stub, name)
        if name == "ImportProducts":  # client streaming: an iterator has no request_id to fill
            return _StreamMethod(call, self._timeout)
        return _Method(call, self._timeout)


class _StreamMethod(_Method):
    def __call__(self, request: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        try:
            return self._call(request, **kwargs)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error


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
        channel_options: list[tuple[str, Any]] = [
            ("grpc.service_config", service_config(max_attempts)),
            ("grpc.enable_retries", 1),
            *(options or []),
        ]
        if credentials is None and (tls or root_certificates is not None):
            credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
        if credentials is not None:
            self.channel = grpc.secure_channel(target, credentials, options=channel_options)
        else:
            self.channel = grpc.insecure_channel(target, options=channel_options)
        # Typed as the generated stubs: same methods, same signatures, plus the behaviour above.
        self.products = cast(
            product_pb2_grpc.ProductServiceStub,
            _Stub(product_pb2_grpc.ProductServiceStub(self.channel), timeout),
        )
        self.warehouses = cast(
            warehouse_pb2_grpc.WarehouseServiceStub,
            _Stub(warehouse_pb2_grpc.WarehouseServiceStub(self.channel), timeout),
        )
        self.users = cast(
            user_pb2_grpc.UserServiceStub, _Stub(user_pb2_grpc.UserServiceStub(self.channel), timeout)
        )
        self.stock = cast(
            stock_pb2_grpc.StockServiceStub, _Stub(stock_pb2_grpc.StockServiceStub(self.channel), timeout)
        )
        self.transactions = cast(
            transaction_pb2_grpc.TransactionServiceStub,
            _Stub(transaction_pb2_grpc.TransactionServiceStub(self.channel), timeout),
        )
        self.stats = cast(
            stats_pb2_grpc.StatsServiceStub, _Stub(stats_pb2_grpc.StatsServiceStub(self.channel), timeout)
        )

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> InventoryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
