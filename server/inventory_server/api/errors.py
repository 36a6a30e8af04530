"""The one place where domain errors become gRPC statuses with rich details.

Details follow google.rpc: ``ErrorInfo`` (stable reason + metadata) always,
``BadRequest`` field violations for INVALID_ARGUMENT, ``PreconditionFailure``
for FAILED_PRECONDITION and stale etags, ``ResourceInfo`` for NOT_FOUND and
ALREADY_EXISTS, ``RetryInfo`` for UNAVAILABLE.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from inventory_server.domain import errors as d

ERROR_DOMAIN = "inventory.v1"

_CODES: list[tuple[type[d.DomainError], grpc.StatusCode]] = [
    (d.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (d.NotFound, grpc.StatusCode.NOT_FOUND),
    (d.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (d.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (d.EtagMismatch, grpc.StatusCode.ABORTED),
    (d.Conflict, grpc.StatusCode.ABORTED),
    (d.Aborted, grpc.StatusCode.ABORTED),
    (d.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (d.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (d.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (d.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (d.DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
]


def status_code_for(error: d.DomainError) -> grpc.StatusCode:
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def to_status(error: d.DomainError) -> grpc.Status:
    """Build the grpc.Status (code, message, google.rpc details) for a domain error."""
    code = status_code_for(error)
    details = [
        _pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata))
    ]
    if isinstance(error, d.InvalidArgument) and error.violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                        for v in error.violations
                    ]
                )
            )
        )
    if isinstance(error, d.FailedPrecondition) and error.violations:
        details.append(
            _pack(
                error_details_pb2.PreconditionFailure(
                    violations=[
                        error_details_pb2.PreconditionFailure.Violation(
                            type=v.type, subject=v.subject, description=v.description
                        )
                        for v in error.violations
                    ]
                )
            )
        )
    if isinstance(error, d.EtagMismatch):
        details.append(
            _pack(
                error_details_pb2.PreconditionFailure(
                    violations=[
                        error_details_pb2.PreconditionFailure.Violation(
                            type="ETAG", subject=f"{error.resource}/{error.key}", description="etag is stale"
                        )
                    ]
                )
            )
        )
    if isinstance(error, d.NotFound | d.AlreadyExists):
        name = error.key if isinstance(error, d.NotFound) else f"{error.field_name}={error.value}"
        details.append(
            _pack(error_details_pb2.ResourceInfo(resource_type=error.resource, resource_name=name))
        )
    if isinstance(error, d.ResourceExhausted) and error.retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(max(1, round(error.retry_after * 1000)))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    elif isinstance(error, d.Unavailable | d.Conflict | d.ResourceExhausted):
        details.append(
            _pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(nanos=100_000_000)))
        )
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=error.message, details=details)
    return rpc_status.to_status(status)
