"""What the client sends over a real mutual-TLS channel, seen by an in-process fake ProductService.

The fake records each call's metadata and the verified client certificate, and
answers like an authorizing server would: no token -> UNAUTHENTICATED, the
"reader" token on a write -> PERMISSION_DENIED with an ErrorInfo naming the
method. Both clients (sync and asyncio) are held against it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
import trustme
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from inventory_client import (
    AsyncInventoryClient,
    InventoryClient,
    PermissionDeniedError,
    Token,
    UnauthenticatedError,
    UnavailableError,
)
from inventory_client.v1 import product_pb2

GET = product_pb2.GetProductRequest(id="p1")


@dataclass
class FakeProducts:
    seen: list[dict[str, Any]] = field(default_factory=list)

    def _check(self, context: grpc.ServicerContext, method: str, write: bool) -> None:
        metadata = dict(context.invocation_metadata())
        peer = bytes(context.auth_context().get("x509_common_name", [b""])[0]).decode()
        self.seen.append({"authorization": metadata.get("authorization"), "peer": peer, "method": method})
        token = str(metadata.get("authorization", "")).removeprefix("Bearer ")
        if not token:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "authentication required")
        if write and token == "reader":
            detail = any_pb2.Any()
            detail.Pack(
                error_details_pb2.ErrorInfo(
                    reason="PERMISSION_DENIED", domain="inventory.v1", metadata={"method": method}
                )
            )
            status = status_pb2.Status(code=code_pb2.PERMISSION_DENIED, message="denied", details=[detail])
            context.abort_with_status(rpc_status.to_status(status))

    def GetProduct(self, request: Any, context: grpc.ServicerContext) -> product_pb2.GetProductResponse:
        self._check(context, "inventory.v1.ProductService/GetProduct", write=False)
        return product_pb2.GetProductResponse(product=product_pb2.Product(id=request.id))

    def CreateProduct(self, request: Any, context: grpc.ServicerContext) -> product_pb2.CreateProductResponse:
        self._check(context, "inventory.v1.ProductService/CreateProduct", write=True)
        return product_pb2.CreateProductResponse(product=request.product)

    def handler(self) -> grpc.GenericRpcHandler[Any, Any]:
        def unary(behaviour: Any, request: Any, response: Any) -> grpc.RpcMethodHandler[Any, Any]:
            return grpc.unary_unary_rpc_method_handler(
                behaviour,
                request_deserializer=request.FromString,
                response_serializer=response.SerializeToString,
            )

        return grpc.method_handlers_generic_handler(
            "inventory.v1.ProductService",
            {
                "GetProduct": unary(
                    self.GetProduct, product_pb2.GetProductRequest, product_pb2.GetProductResponse
                ),
                "CreateProduct": unary(
                    self.CreateProduct, product_pb2.CreateProductRequest, product_pb2.CreateProductResponse
                ),
            },
        )


@dataclass
class Pki:
    ca_pem: bytes
    client_cert: bytes
    client_key: bytes


@dataclass
class FakeServer:
    target: str
    products: FakeProducts
    pki: Pki


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeServer]:
    ca = trustme.CA()
    server_cert = ca.issue_cert("inventory.test")
    client_cert = ca.issue_cert("orders-service", common_name="orders-service")
    credentials = grpc.ssl_server_credentials(
        [(server_cert.private_key_pem.bytes(), b"".join(p.bytes() for p in server_cert.cert_chain_pems))],
        root_certificates=ca.cert_pem.bytes(),
        require_client_auth=True,
    )
    products = FakeProducts()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((products.handler(),))
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    pki = Pki(
        ca_pem=ca.cert_pem.bytes(),
        client_cert=b"".join(p.bytes() for p in client_cert.cert_chain_pems),
        client_key=client_cert.private_key_pem.bytes(),
    )
    try:
        yield FakeServer(f"127.0.0.1:{port}", products, pki)
    finally:
        server.stop(None)


def _tls(server: FakeServer) -> dict[str, Any]:
    # The certificate names inventory.test, not 127.0.0.1: tls_server_name says which name to check.
    return {
        "root_certificates": server.pki.ca_pem,
        "client_cert": server.pki.client_cert,
        "client_key": server.pki.client_key,
        "tls_server_name": "inventory.test",
        "timeout": 5,
        "max_attempts": 1,
    }


def test_mutual_tls_and_a_fixed_token_reach_the_server(fake_server: FakeServer) -> None:
    with InventoryClient(fake_server.target, token="clerk", **_tls(fake_server)) as client:
        assert client.products.GetProduct(GET).product.id == "p1"
    assert fake_server.products.seen[-1] == {
        "authorization": "Bearer clerk",
        "peer": "orders-service",
        "method": "inventory.v1.ProductService/GetProduct",
    }


def test_a_provider_token_is_sent_and_refreshed_before_expiry(fake_server: FakeServer) -> None:
    issued: list[str] = []

    def provider() -> Token:
        issued.append(f"t{len(issued)}")
        # 31 s of life with the 30 s margin: good for about one second, then asked again
        return issued[-1], time.time() + 31

    with InventoryClient(fake_server.target, token_provider=provider, **_tls(fake_server)) as client:
        client.products.GetProduct(GET)
        client.products.GetProduct(GET)
        assert issued == ["t0"]
        time.sleep(1.1)
        client.products.GetProduct(GET)
    assert issued == ["t0", "t1"]
    assert [s["authorization"] for s in fake_server.products.seen[-3:]] == [
        "Bearer t0",
        "Bearer t0",
        "Bearer t1",
    ]


def test_missing_and_insufficient_credentials_raise_typed_errors(fake_server: FakeServer) -> None:
    with (
        InventoryClient(fake_server.target, **_tls(fake_server)) as anonymous,
        pytest.raises(UnauthenticatedError) as unauthenticated,
    ):
        anonymous.products.GetProduct(GET)
    assert unauthenticated.value.code == grpc.StatusCode.UNAUTHENTICATED
    with InventoryClient(fake_server.target, token="reader", **_tls(fake_server)) as reader:
        assert reader.products.GetProduct(GET).product.id == "p1"
        with pytest.raises(PermissionDeniedError) as denied:
            reader.products.CreateProduct(
                product_pb2.CreateProductRequest(product=product_pb2.Product(sku="s"))
            )
    assert denied.value.reason == "PERMISSION_DENIED"
    assert denied.value.metadata == {"method": "inventory.v1.ProductService/CreateProduct"}


def test_without_the_client_certificate_the_handshake_fails(fake_server: FakeServer) -> None:
    settings = {**_tls(fake_server), "client_cert": None, "client_key": None}
    with (
        InventoryClient(fake_server.target, token="clerk", **settings) as client,
        pytest.raises(UnavailableError),
    ):
        client.products.GetProduct(GET)


async def test_the_async_client_sends_an_async_providers_token_over_mutual_tls(
    fake_server: FakeServer,
) -> None:
    async def provider() -> Token:
        return "async-clerk", time.time() + 600

    async with AsyncInventoryClient(
        fake_server.target, token_provider=provider, **_tls(fake_server)
    ) as client:
        assert (await client.products.GetProduct(GET)).product.id == "p1"
    assert fake_server.products.seen[-1]["authorization"] == "Bearer async-clerk"
    assert fake_server.products.seen[-1]["peer"] == "orders-service"
    async with AsyncInventoryClient(fake_server.target, token="reader", **_tls(fake_server)) as reader:
        with pytest.raises(PermissionDeniedError):
            await reader.products.CreateProduct(product_pb2.CreateProductRequest())
    async with AsyncInventoryClient(fake_server.target, **_tls(fake_server)) as anonymous:
        with pytest.raises(UnauthenticatedError):
            await anonymous.products.GetProduct(GET)
