"""Request bytes that are not the method's message: INVALID_ARGUMENT, no framework text, counted in Stats."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from inventory_client import InventoryClient
from inventory_client.v1 import product_pb2, stats_pb2

from .conftest import ServerProcess

# A field 1 length-delimited header claiming 127 bytes that never come: not a protobuf message.
GARBAGE = b"\x0a\x7f\x01"
# Field 1 of ImportProductsRequest (the product) holding invalid UTF-8 in its sku (a proto3 string).
BAD_UTF8_ROW = b"\x0a\x04\x12\x02\xff\xfe"  # product { sku: <0xff 0xfe> }


def _identity(data: bytes) -> bytes:
    return data


@pytest.fixture
def channel(server: ServerProcess) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.target) as channel:
        yield channel


def _refused(call: grpc.RpcError) -> None:
    assert call.code() == grpc.StatusCode.INVALID_ARGUMENT, (call.code(), call.details())
    details = call.details() or ""
    assert "deserializ" not in details.lower()
    assert "Exception" not in details
    assert "request" in details


def _errors(client: InventoryClient, method: str) -> dict[str, int]:
    reply: stats_pb2.GetStatsResponse = client.stats.GetStats(stats_pb2.GetStatsRequest())
    return next((dict(m.errors_by_code) for m in reply.methods if m.method == method), {})


@pytest.mark.parametrize(
    "method",
    [
        "/inventory.v1.ProductService/GetProduct",
        "/inventory.v1.ProductService/BatchCreateProducts",
        "/inventory.v1.StockService/ReceiveStock",
        "/inventory.v1.StatsService/GetStats",
    ],
)
def test_malformed_unary_requests_are_invalid_arguments_and_counted(
    channel: grpc.Channel, client: InventoryClient, method: str
) -> None:
    call = channel.unary_unary(method, request_serializer=_identity, response_deserializer=_identity)
    for payload in (GARBAGE, b"\x0a"):  # a length-delimited field cut short; a tag without its length
        with pytest.raises(grpc.RpcError) as caught:
            call(payload, timeout=5)
        _refused(caught.value)
    assert _errors(client, method).get("INVALID_ARGUMENT") == 2


def test_a_malformed_message_in_the_import_stream_is_an_invalid_argument(
    channel: grpc.Channel, client: InventoryClient
) -> None:
    method = "/inventory.v1.ProductService/ImportProducts"
    good = product_pb2.ImportProductsRequest(
        product=product_pb2.Product(sku="GOOD-1", name="Good")
    ).SerializeToString()
    call = channel.stream_unary(method, request_serializer=_identity, response_deserializer=_identity)
    for stream in ([good, GARBAGE], [BAD_UTF8_ROW], [GARBAGE]):
        with pytest.raises(grpc.RpcError) as caught:
            call(iter(stream), timeout=5)
        _refused(caught.value)
    assert _errors(client, method).get("INVALID_ARGUMENT") == 3


def test_a_malformed_watch_request_is_an_invalid_argument(channel: grpc.Channel) -> None:
    call = channel.unary_stream(
        "/inventory.v1.StockService/WatchStockChanges",
        request_serializer=_identity,
        response_deserializer=_identity,
    )
    with pytest.raises(grpc.RpcError) as caught:
        list(call(GARBAGE, timeout=5))
    _refused(caught.value)
