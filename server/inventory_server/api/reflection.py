"""gRPC server reflection under both of its names: ``grpc.reflection.v1`` and ``v1alpha``,
answering with descriptors that keep the protos' comments.

grpcio-reflection (up to 1.85 at least) implements only ``grpc.reflection.v1alpha``;
current grpcurl, Postman and grpcui ask ``grpc.reflection.v1`` first. The v1 protocol is
the v1alpha one under a new package: every message is field for field the same (the
v1 proto says so), so the bytes on the wire are identical. One servicer therefore
answers both: the v1 method is registered with the v1alpha message classes.

So that reflection can also describe the v1 service itself (``grpcurl describe
grpc.reflection.v1.ServerReflection``), its file is added to the descriptor pool:
the v1alpha file with the package and the type references renamed, which is what
``grpc/reflection/v1/reflection.proto`` declares.

Comments: the descriptors embedded in generated ``*_pb2`` modules have no
``source_code_info`` (protoc strips it), and the protobuf runtime drops it even
from files added with it, so grpcio-reflection's servicer can never send comments.
scripts/codegen.py therefore also writes ``inventory_v1_descriptors.binpb`` (the
inventory protos compiled with ``--include_source_info``), and this servicer sends
those files as they are; every other file (google/protobuf/*, health, reflection)
comes from the pool, without comments. The pool still decides what exists, so
both always describe the same schema (codegen --check keeps them in step).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import AsyncIterator, Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any, TypeAlias

import grpc
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool
from grpc import aio
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc

V1ALPHA_SERVICE_NAME: str = reflection.SERVICE_NAME
V1_PACKAGE = "grpc.reflection.v1"
V1_SERVICE_NAME = f"{V1_PACKAGE}.ServerReflection"
V1_FILE_NAME = "grpc/reflection/v1/reflection.proto"
SERVICE_NAMES: tuple[str, ...] = (V1_SERVICE_NAME, V1ALPHA_SERVICE_NAME)

_V1ALPHA_PACKAGE = reflection_pb2.DESCRIPTOR.package


def v1_file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """``grpc/reflection/v1/reflection.proto``, derived from the v1alpha file."""
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    proto.name = V1_FILE_NAME
    proto.package = V1_PACKAGE
    old, new = f".{_V1ALPHA_PACKAGE}.", f".{V1_PACKAGE}."

    def rename(messages: Iterable[descriptor_pb2.DescriptorProto]) -> None:
        for message in messages:
            for field in message.field:
                if field.type_name.startswith(old):
                    field.type_name = new + field.type_name[len(old) :]
            rename(message.nested_type)

    rename(proto.message_type)
    for service in proto.service:
        for method in service.method:
            method.input_type = new + method.input_type[len(old) :]
            method.output_type = new + method.output_type[len(old) :]
    # The file options of the real v1 proto (v1alpha's are deprecated and name v1alpha packages).
    proto.options.Clear()
    proto.options.go_package = "google.golang.org/grpc/reflection/grpc_reflection_v1"
    proto.options.java_multiple_files = True
    proto.options.java_package = "io.grpc.reflection.v1"
    proto.options.java_outer_classname = "ServerReflectionProto"
    return proto


def register_v1_descriptor(pool: descriptor_pool.DescriptorPool | None = None) -> None:
    """Add the v1 file to ``pool`` (the default pool) once; later calls do nothing."""
    default = pool is None
    pool = pool or descriptor_pool.Default()
    try:
        pool.FindFileByName(V1_FILE_NAME)
        return
    except KeyError:
        pass
    if default and importlib.util.find_spec("grpc_reflection.v1") is not None:
        # A grpcio-reflection that ships the v1 module registers the real file on import;
        # adding ours first would make that import fail with a conflicting definition.
        importlib.import_module("grpc_reflection.v1.reflection_pb2")
        return
    pool.AddSerializedFile(v1_file_descriptor().SerializeToString())


@cache
def commented_files() -> Mapping[str, bytes]:
    """File name -> serialized FileDescriptorProto with source_code_info, from codegen's set."""
    raw = resources.files(__package__).joinpath("inventory_v1_descriptors.binpb").read_bytes()
    files = descriptor_pb2.FileDescriptorSet.FromString(raw).file
    return {proto.name: proto.SerializeToString() for proto in files}


def serialized_file(file: descriptor.FileDescriptor) -> bytes:
    """A file for a reflection answer: with its comments where codegen kept them."""
    commented = commented_files().get(file.name)
    if commented is not None:
        return commented
    proto = descriptor_pb2.FileDescriptorProto()
    file.CopyToProto(proto)
    return proto.SerializeToString()


def with_dependencies(file: descriptor.FileDescriptor) -> list[descriptor.FileDescriptor]:
    """``file`` first, then everything it imports, transitively, each once."""
    found: dict[str, descriptor.FileDescriptor] = {}
    pending = [file]
    while pending:
        current = pending.pop(0)
        if current.name not in found:
            found[current.name] = current
            pending.extend(current.dependencies)
    return list(found.values())


# grpcio-reflection ships no type information (mypy sees its modules as Any): these names
# document what flows where, the classes below build the messages.
Request: TypeAlias = Any
Response: TypeAlias = Any
_Request = reflection_pb2.ServerReflectionRequest
_Response = reflection_pb2.ServerReflectionResponse


class ReflectionServicer:
    """grpc.reflection's ServerReflectionInfo over one descriptor pool, for v1 and v1alpha alike."""

    def __init__(self, service_names: Iterable[str], pool: descriptor_pool.DescriptorPool | None = None):
        self._service_names = tuple(sorted(set(service_names)))
        self._pool = pool or descriptor_pool.Default()

    async def ServerReflectionInfo(
        self, request_iterator: AsyncIterator[Request], context: aio.ServicerContext[Request, Response]
    ) -> AsyncIterator[Response]:
        async for request in request_iterator:
            yield self.answer(request)

    def answer(self, request: Request) -> Response:
        try:
            return self._answer(request)
        except KeyError:  # the pool's answer to an unknown file, symbol, type or extension
            return self._error(request, grpc.StatusCode.NOT_FOUND)

    def _answer(self, request: Request) -> Response:
        kind = request.WhichOneof("message_request")
        if kind == "file_by_filename":
            return self._files(request, self._pool.FindFileByName(request.file_by_filename))
        if kind == "file_containing_symbol":
            return self._files(request, self._file_containing_symbol(request.file_containing_symbol))
        if kind == "file_containing_extension":
            wanted = request.file_containing_extension
            message = self._pool.FindMessageTypeByName(wanted.containing_type)
            extension = self._pool.FindExtensionByNumber(message, wanted.extension_number)
            return self._files(request, self._pool.FindFileContainingSymbol(extension.full_name))
        if kind == "all_extension_numbers_of_type":
            message = self._pool.FindMessageTypeByName(request.all_extension_numbers_of_type)
            numbers = sorted(e.number for e in self._pool.FindAllExtensions(message))
            return _Response(
                original_request=request,
                all_extension_numbers_response=reflection_pb2.ExtensionNumberResponse(
                    base_type_name=message.full_name, extension_number=numbers
                ),
            )
        if kind == "list_services":
            services = [reflection_pb2.ServiceResponse(name=name) for name in self._service_names]
            return _Response(
                original_request=request,
                list_services_response=reflection_pb2.ListServiceResponse(service=services),
            )
        return self._error(request, grpc.StatusCode.INVALID_ARGUMENT)

    def _file_containing_symbol(self, name: str) -> descriptor.FileDescriptor:
        try:
            return self._pool.FindFileContainingSymbol(name)
        except KeyError:
            # The Python pool does not resolve method names (grpcurl describe
            # inventory.v1.StockService.ShipStock asks for one); the C++ and Go servers do.
            method = self._pool.FindMethodByName(name)
            return method.containing_service.file

    @staticmethod
    def _files(request: Request, file: descriptor.FileDescriptor) -> Response:
        return _Response(
            original_request=request,
            file_descriptor_response=reflection_pb2.FileDescriptorResponse(
                file_descriptor_proto=[serialized_file(f) for f in with_dependencies(file)]
            ),
        )

    @staticmethod
    def _error(request: Request, code: grpc.StatusCode) -> Response:
        number, text = code.value
        return _Response(
            original_request=request,
            error_response=reflection_pb2.ErrorResponse(error_code=number, error_message=text),
        )


def enable_server_reflection(service_names: Iterable[str], server: aio.Server) -> None:
    """Serve reflection for ``service_names`` (plus both reflection services) under v1 and v1alpha."""
    register_v1_descriptor()
    servicer = ReflectionServicer((*service_names, *SERVICE_NAMES))
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    handlers = {
        "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
            servicer.ServerReflectionInfo,
            request_deserializer=_Request.FromString,
            response_serializer=_Response.SerializeToString,
        )
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(V1_SERVICE_NAME, handlers),))
