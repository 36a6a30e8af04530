"""The reflection servicer's answers, without a server: the commented descriptor set is the
schema the server runs, the v1 file mirrors v1alpha, and bad requests get reflection errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2

from inventory_client.v1 import (
    audit_pb2,
    product_pb2,
    stats_pb2,
    stock_pb2,
    transaction_pb2,
    user_pb2,
    warehouse_pb2,
)
from inventory_server.api.reflection import (
    SERVICE_NAMES,
    V1_FILE_NAME,
    ReflectionServicer,
    commented_files,
    register_v1_descriptor,
    v1_file_descriptor,
)
from inventory_server.app import SERVICE_NAMES as INVENTORY_SERVICES

GENERATED = (audit_pb2, product_pb2, stats_pb2, stock_pb2, transaction_pb2, user_pb2, warehouse_pb2)


def servicer() -> ReflectionServicer:
    register_v1_descriptor()
    return ReflectionServicer((*INVENTORY_SERVICES, *SERVICE_NAMES))


def ask(**request: Any) -> Any:
    return servicer().answer(reflection_pb2.ServerReflectionRequest(**request))


def test_commented_set_covers_exactly_the_generated_files() -> None:
    assert set(commented_files()) == {module.DESCRIPTOR.name for module in GENERATED}


@pytest.mark.parametrize("module", GENERATED, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_commented_file_is_the_generated_descriptor_plus_comments(module: Any) -> None:
    # Guards against a descriptor set from other protos than the generated code (codegen --check
    # regenerates both; this holds in an installed wheel too).
    commented = descriptor_pb2.FileDescriptorProto.FromString(commented_files()[module.DESCRIPTOR.name])
    assert len(commented.source_code_info.location) > 0
    assert any(loc.leading_comments.strip() for loc in commented.source_code_info.location)
    generated = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(generated)
    commented.ClearField("source_code_info")
    # protoc's descriptor sets also spell out each field's json_name, which the embedded
    # descriptors leave to the runtime to derive; the values agree.
    for message, runtime in zip(
        commented.message_type, module.DESCRIPTOR.message_types_by_name.values(), strict=True
    ):
        clear_json_names(message, runtime)
    assert commented == generated


def clear_json_names(message: descriptor_pb2.DescriptorProto, runtime: Any) -> None:
    assert message.name == runtime.name
    for field in message.field:
        assert field.json_name == runtime.fields_by_name[field.name].json_name
        field.ClearField("json_name")
    for nested in message.nested_type:
        clear_json_names(nested, runtime.nested_types_by_name[nested.name])


def test_file_answers_use_the_commented_file_and_pool_files_for_imports() -> None:
    response = ask(file_containing_symbol="inventory.v1.ProductService")
    protos = [
        descriptor_pb2.FileDescriptorProto.FromString(b)
        for b in response.file_descriptor_response.file_descriptor_proto
    ]
    names = [p.name for p in protos]
    assert names[0] == "inventory/v1/product.proto"  # the asked-for file first, as grpcurl expects
    assert len(names) == len(set(names))
    assert {"google/protobuf/timestamp.proto", "google/protobuf/field_mask.proto"} & set(names)
    by_name = {p.name: p for p in protos}
    assert by_name["inventory/v1/product.proto"].HasField("source_code_info")
    for name in names:
        assert set(by_name[name].dependency) <= set(names)


def test_v1_file_is_v1alpha_under_the_v1_package() -> None:
    v1 = v1_file_descriptor()
    alpha = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(alpha)
    assert (v1.name, v1.package) == (V1_FILE_NAME, "grpc.reflection.v1")
    assert [m.name for m in v1.message_type] == [m.name for m in alpha.message_type]
    for new, old in zip(v1.message_type, alpha.message_type, strict=True):
        pairs = zip(new.field, old.field, strict=True)
        for a, b in pairs:
            assert (a.name, a.number, a.type, a.label, a.oneof_index) == (
                b.name,
                b.number,
                b.type,
                b.label,
                b.oneof_index,
            )
            assert a.type_name == b.type_name.replace(".grpc.reflection.v1alpha.", ".grpc.reflection.v1.")
    assert "v1alpha" not in v1.SerializeToString().decode("latin-1")


def test_v1_descriptor_registers_once_and_resolves() -> None:
    register_v1_descriptor()
    register_v1_descriptor()
    pool = descriptor_pool.Default()
    service = pool.FindServiceByName("grpc.reflection.v1.ServerReflection")
    (method,) = service.methods
    assert method.input_type.full_name == "grpc.reflection.v1.ServerReflectionRequest"


@pytest.mark.parametrize(
    ("symbol", "file"),
    [
        ("inventory.v1.StockService", "inventory/v1/stock.proto"),
        ("inventory.v1.StockService.ShipStock", "inventory/v1/stock.proto"),  # what `grpcurl describe` sends
        ("inventory.v1.Product.sku", "inventory/v1/product.proto"),
        ("inventory.v1.ROLE_CLERK", "inventory/v1/user.proto"),
        ("grpc.reflection.v1.ServerReflection.ServerReflectionInfo", V1_FILE_NAME),
    ],
)
def test_file_containing_symbol_resolves_services_methods_fields_and_enum_values(
    symbol: str, file: str
) -> None:
    response = ask(file_containing_symbol=symbol)
    first = response.file_descriptor_response.file_descriptor_proto[0]
    assert descriptor_pb2.FileDescriptorProto.FromString(first).name == file


def test_list_services_names_both_reflection_versions_once() -> None:
    names = [s.name for s in ask(list_services="").list_services_response.service]
    assert names == sorted(set(names))
    assert set(SERVICE_NAMES) <= set(names)
    assert set(INVENTORY_SERVICES) <= set(names)


@pytest.mark.parametrize(
    "request_fields",
    [
        {"file_by_filename": "no/such.proto"},
        {"file_containing_symbol": "no.such.Symbol"},
        {"file_containing_symbol": "inventory.v1.StockService.NoSuchMethod"},
        {"all_extension_numbers_of_type": "no.such.Message"},
        {"file_containing_extension": {"containing_type": "inventory.v1.Product", "extension_number": 999}},
    ],
)
def test_unknown_names_answer_not_found(request_fields: dict[str, Any]) -> None:
    response = ask(**request_fields)
    assert response.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
    assert response.original_request == reflection_pb2.ServerReflectionRequest(**request_fields)


def test_a_request_without_a_question_is_invalid() -> None:
    assert ask().error_response.error_code == grpc.StatusCode.INVALID_ARGUMENT.value[0]


def test_extension_numbers_of_a_message_without_extensions_are_empty() -> None:
    response = ask(all_extension_numbers_of_type="inventory.v1.Product")
    assert response.all_extension_numbers_response.base_type_name == "inventory.v1.Product"
    assert list(response.all_extension_numbers_response.extension_number) == []


def test_a_grpcio_reflection_that_ships_v1_is_used_instead_of_the_derived_file(tmp_path: Path) -> None:
    # A fresh interpreter whose grpcio-reflection has a v1 module (faked under tmp_path) that
    # registers grpc/reflection/v1/reflection.proto on import, as generated code does.
    fake = tmp_path / "v1"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "reflection_pb2.py").write_text(
        "from google.protobuf import descriptor_pool\n"
        "from inventory_server.api.reflection import v1_file_descriptor\n"
        "IMPORTED = True\n"
        "descriptor_pool.Default().AddSerializedFile(v1_file_descriptor().SerializeToString())\n"
    )
    script = (
        "import sys, grpc_reflection\n"
        f"grpc_reflection.__path__.append({str(tmp_path)!r})\n"
        "from inventory_server.api.reflection import register_v1_descriptor\n"
        "register_v1_descriptor()\n"
        "register_v1_descriptor()\n"
        "assert sys.modules['grpc_reflection.v1.reflection_pb2'].IMPORTED\n"
        "from google.protobuf import descriptor_pool\n"
        "print(descriptor_pool.Default().FindServiceByName('grpc.reflection.v1.ServerReflection').full_name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "grpc.reflection.v1.ServerReflection"
