"""The standard health and reflection services, and the server's lifecycle."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from .conftest import ServerProcess

INVENTORY_SERVICES = {
    "inventory.v1.ProductService",
    "inventory.v1.WarehouseService",
    "inventory.v1.UserService",
    "inventory.v1.StockService",
    "inventory.v1.TransactionService",
    "inventory.v1.StatsService",
}


def test_health_check_answers_serving_for_server_and_each_service(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ["", *sorted(INVENTORY_SERVICES)]:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING, name


def test_health_check_of_unknown_service_is_not_found(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_all_six_inventory_services(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        responses = list(stub.ServerReflectionInfo(iter([request]), timeout=5))
    names = {s.name for s in responses[0].list_services_response.service}
    assert names >= INVENTORY_SERVICES
    assert "grpc.health.v1.Health" in names


def test_reflection_describes_a_service_file(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="inventory.v1.StockService")
        responses = list(stub.ServerReflectionInfo(iter([request]), timeout=5))
    files = responses[0].file_descriptor_response.file_descriptor_proto
    assert files, responses[0]


def test_sigterm_turns_health_not_serving_and_exits_zero(server: ServerProcess) -> None:
    with grpc.insecure_channel(server.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        watch = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=20)
        first = next(watch)
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        server.process.terminate()
        statuses = []
        try:
            for reply in watch:
                statuses.append(reply.status)
                if reply.status == health_pb2.HealthCheckResponse.NOT_SERVING:
                    break
        except grpc.RpcError:
            pass
    assert server.process.wait(timeout=20) == 0
    assert health_pb2.HealthCheckResponse.NOT_SERVING in statuses, statuses
