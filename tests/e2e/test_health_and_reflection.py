"""The standard health and reflection services, and the server's lifecycle."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from inventory_server.api.reflection import register_v1_descriptor

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


# --- grpc.reflection.v1, called directly (not through the v1alpha stub) -------------------------

V1_METHOD = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"


def v1_message(name: str) -> Any:
    """A message class of grpc.reflection.v1, built from its descriptor (grpcio-reflection has none)."""
    register_v1_descriptor()
    pool = descriptor_pool.Default()
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"grpc.reflection.v1.{name}"))


def v1_call(channel: grpc.Channel) -> Callable[..., Any]:
    request, response = v1_message("ServerReflectionRequest"), v1_message("ServerReflectionResponse")
    return channel.stream_stream(
        V1_METHOD, request_serializer=request.SerializeToString, response_deserializer=response.FromString
    )


def ask_v1(server: ServerProcess, **request: Any) -> list[Any]:
    with grpc.insecure_channel(server.target) as channel:
        message = v1_message("ServerReflectionRequest")(**request)
        return list(v1_call(channel)(iter([message]), timeout=5))


def files_of(response: Any) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    protos = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in response.file_descriptor_response.file_descriptor_proto
    ]
    return {proto.name: proto for proto in protos}


def test_reflection_v1_lists_services_including_both_reflection_versions(server: ServerProcess) -> None:
    (response,) = ask_v1(server, list_services="")
    assert type(response).DESCRIPTOR.full_name == "grpc.reflection.v1.ServerReflectionResponse"
    names = {s.name for s in response.list_services_response.service}
    assert names >= INVENTORY_SERVICES
    assert {
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= names


def test_reflection_v1_describes_a_service_with_its_dependencies(server: ServerProcess) -> None:
    (response,) = ask_v1(server, file_containing_symbol="inventory.v1.StockService")
    assert response.original_request.file_containing_symbol == "inventory.v1.StockService"
    files = files_of(response)
    assert "inventory/v1/stock.proto" in files
    stock = files["inventory/v1/stock.proto"]
    assert "StockService" in {s.name for s in stock.service}
    # Every import travels along, so a client can build the whole descriptor set.
    for proto in files.values():
        assert set(proto.dependency) <= set(files), proto.name


def test_reflection_v1_describes_itself(server: ServerProcess) -> None:
    # What `grpcurl describe grpc.reflection.v1.ServerReflection` needs.
    (response,) = ask_v1(server, file_containing_symbol="grpc.reflection.v1.ServerReflection")
    proto = files_of(response)["grpc/reflection/v1/reflection.proto"]
    assert proto.package == "grpc.reflection.v1"
    (method,) = proto.service[0].method
    assert (method.input_type, method.output_type) == (
        ".grpc.reflection.v1.ServerReflectionRequest",
        ".grpc.reflection.v1.ServerReflectionResponse",
    )
    assert method.client_streaming
    assert method.server_streaming


def test_reflection_v1_and_v1alpha_answer_byte_for_byte_alike(server: ServerProcess) -> None:
    requests = [
        {"list_services": ""},
        {"file_containing_symbol": "inventory.v1.ProductService"},
        {"file_by_filename": "inventory/v1/user.proto"},
        {"file_containing_symbol": "no.such.Symbol"},
    ]
    with grpc.insecure_channel(server.target) as channel:
        v1_request = v1_message("ServerReflectionRequest")
        v1 = list(v1_call(channel)(iter([v1_request(**r) for r in requests]), timeout=5))
        alpha_stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        alpha = list(
            alpha_stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(**r) for r in requests]), timeout=5
            )
        )
    assert [m.SerializeToString(deterministic=True) for m in v1] == [
        m.SerializeToString(deterministic=True) for m in alpha
    ]
    assert v1[3].error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]


def leading_comment(proto: descriptor_pb2.FileDescriptorProto, path: list[int]) -> str:
    (location,) = [loc for loc in proto.source_code_info.location if list(loc.path) == path]
    return location.leading_comments


def test_reflection_descriptors_keep_the_protos_comments(server: ServerProcess) -> None:
    # What `grpcurl describe inventory.v1.StockService` shows as comments.
    (response,) = ask_v1(server, file_containing_symbol="inventory.v1.StockService")
    stock = files_of(response)["inventory/v1/stock.proto"]
    service_index = [s.name for s in stock.service].index("StockService")
    method_index = [m.name for m in stock.service[service_index].method].index("ReceiveStock")
    # FileDescriptorProto field 6 is `service`, ServiceDescriptorProto field 2 is `method`.
    assert leading_comment(stock, [6, service_index]).startswith(" StockService reads stock levels")
    assert leading_comment(stock, [6, service_index, 2, method_index]) == " Books goods into a warehouse.\n"
    # The same answer through v1alpha: both names serve the same files.
    with grpc.insecure_channel(server.target) as channel:
        request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="inventory.v1.StockService")
        (alpha,) = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            iter([request]), timeout=5
        )
    assert files_of(alpha)["inventory/v1/stock.proto"] == stock


# --- the image's HEALTHCHECK, run as Docker runs it ------------------------------------------------


def image_healthcheck_command() -> list[str]:
    """The exec-form command of the Dockerfile's HEALTHCHECK."""
    text = (Path(__file__).resolve().parents[2] / "Dockerfile").read_text().replace("\\\n", " ")
    (command,) = re.findall(r"^HEALTHCHECK .*?CMD (\[.*\])$", text, flags=re.MULTILINE)
    parsed: list[str] = json.loads(command)
    return parsed


def run_healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    executable, *args = image_healthcheck_command()
    # The console script installed beside this interpreter, as in the image's /opt/venv/bin.
    program = Path(sys.executable).parent / executable
    args = [a.replace("127.0.0.1:50051", f"127.0.0.1:{port}") for a in args]
    return subprocess.run([str(program), *args], capture_output=True, text=True, timeout=30, check=False)


def test_image_healthcheck_passes_on_a_serving_server_and_fails_once_it_is_gone(
    server: ServerProcess,
) -> None:
    healthy = run_healthcheck(server.port)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert server.stop() == 0
    gone = run_healthcheck(server.port)
    assert gone.returncode == 2, gone.stdout + gone.stderr  # grpc_health_probe's "connection failure"


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
