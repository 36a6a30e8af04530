"""The thin client: service config, request_id filling, typed errors (no network)."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from inventory_client import (
    DeadlineExceededError,
    InventoryClient,
    NotFoundError,
    UnavailableError,
    service_config,
)
from inventory_client._calls import Method
from inventory_client.auth import CallAuth
from inventory_client.errors import FailedPreconditionError, InvalidArgumentError, from_rpc_error
from inventory_client.v1 import product_pb2, stock_pb2


def test_service_config_retries_only_unavailable_and_balances_round_robin() -> None:
    config = json.loads(service_config(4))
    policy = config["methodConfig"][0]["retryPolicy"]
    assert policy["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert policy["maxAttempts"] == 4
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    services = {n["service"] for n in config["methodConfig"][0]["name"]}
    assert "inventory.v1.StockService" in services


def test_service_config_without_retries_is_accepted_by_grpc() -> None:
    assert "retryPolicy" not in json.loads(service_config(1))["methodConfig"][0]
    client = InventoryClient("127.0.0.1:1", max_attempts=1, timeout=0.2)
    # nothing listens on port 1: the call fails in transport, not in channel creation
    with pytest.raises((UnavailableError, DeadlineExceededError)):
        client.products.GetProduct(product_pb2.GetProductRequest(id="x"))
    client.close()


def test_write_without_request_id_gets_one_and_callers_message_is_untouched() -> None:
    seen: list[Any] = []

    def fake(request: Any, **kwargs: Any) -> str:
        seen.append((request, kwargs))
        return "ok"

    request = stock_pb2.ReceiveStockRequest(product_id="p", warehouse_id="w", quantity=1)
    assert Method(fake, 3.0, CallAuth())(request) == "ok"
    sent, kwargs = seen[0]
    assert sent.request_id
    assert request.request_id == ""
    assert kwargs["timeout"] == 3.0
    Method(fake, 3.0, CallAuth())(stock_pb2.ReceiveStockRequest(request_id="mine"), timeout=1)
    assert seen[1][0].request_id == "mine"
    assert seen[1][1]["timeout"] == 1


class _FakeRpcError(grpc.RpcError):
    def __init__(self, status: status_pb2.Status) -> None:
        self._status = status

    def code(self) -> grpc.StatusCode:
        return {
            code_pb2.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
            code_pb2.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
            code_pb2.FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
        }[self._status.code]

    def details(self) -> str:
        return str(self._status.message)

    def trailing_metadata(self) -> Any:
        return (("grpc-status-details-bin", self._status.SerializeToString()),)


def _packed(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def test_errors_become_typed_exceptions_with_details() -> None:
    status = status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT,
        message="bad",
        details=[
            _packed(error_details_pb2.ErrorInfo(reason="INVALID_ARGUMENT", domain="inventory.v1")),
            _packed(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(field="quantity", description="> 0")
                    ]
                )
            ),
        ],
    )
    error = from_rpc_error(_FakeRpcError(status))
    assert isinstance(error, InvalidArgumentError)
    assert error.reason == "INVALID_ARGUMENT"
    assert error.field_violations[0].field == "quantity"

    failure = status_pb2.Status(
        code=code_pb2.FAILED_PRECONDITION,
        message="short",
        details=[
            _packed(
                error_details_pb2.PreconditionFailure(
                    violations=[
                        error_details_pb2.PreconditionFailure.Violation(
                            type="STOCK", subject="p/w", description="3"
                        )
                    ]
                )
            )
        ],
    )
    short = from_rpc_error(_FakeRpcError(failure))
    assert isinstance(short, FailedPreconditionError)
    assert short.precondition_violations[0].description == "3"
    assert isinstance(
        from_rpc_error(_FakeRpcError(status_pb2.Status(code=code_pb2.NOT_FOUND))), NotFoundError
    )
