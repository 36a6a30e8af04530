"""Typed exceptions for inventory.v1 errors, carrying the google.rpc details.

try:
    client.products.GetProduct(GetProductRequest(id=...))
except NotFoundError as e:
    ...
except InvalidArgumentError as e:
    for v in e.field_violations: print(v.field, v.description)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


@dataclass(frozen=True)
class PreconditionViolation:
    type: str
    subject: str
    description: str


@dataclass
class InventoryError(Exception):
    """Base of every error the client raises for a failed call."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    field_violations: list[FieldViolation] = field(default_factory=list)
    precondition_violations: list[PreconditionViolation] = field(default_factory=list)
    retry_delay: float | None = None

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"


class InvalidArgumentError(InventoryError):
    """The request was malformed (see field_violations)."""


class NotFoundError(InventoryError):
    """A resource named by the request does not exist."""


class AlreadyExistsError(InventoryError):
    """A unique value (sku, code, email) is taken."""


class FailedPreconditionError(InventoryError):
    """The state forbids the operation (for example too little stock; see precondition_violations)."""


class AbortedError(InventoryError):
    """A stale etag or a persistent concurrency conflict: read again and retry."""


class UnauthenticatedError(InventoryError):
    """No credentials, or credentials the server refuses (a missing, expired or invalid token).

    The server tells no more than that on purpose: check the token's issuer, audience and expiry.
    """


class PermissionDeniedError(InventoryError):
    """The caller is known but may not do this; ``metadata`` of the ErrorInfo names the method."""


class ResourceExhaustedError(InventoryError):
    """Too many attempts or too much load (for example throttled logins); wait ``retry_delay`` seconds."""


class UnavailableError(InventoryError):
    """The service or its database is unavailable; safe to retry (writes carry request_id)."""


class DeadlineExceededError(InventoryError):
    """The call's deadline passed."""


class UnimplementedError(InventoryError):
    """The server does not implement this method."""


class InternalError(InventoryError):
    """A bug on the server side."""


_BY_CODE: dict[grpc.StatusCode, type[InventoryError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.ABORTED: AbortedError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.UNIMPLEMENTED: UnimplementedError,
    grpc.StatusCode.INTERNAL: InternalError,
}


def from_rpc_error(error: grpc.RpcError) -> InventoryError:
    """Turn a grpc.RpcError (sync or aio) into the matching typed exception with its details."""
    code: grpc.StatusCode = error.code()
    message: str = error.details() or ""
    kind = _BY_CODE.get(code, InventoryError)
    result = kind(code=code, message=message)
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is None:
        return result
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            result.reason = info.reason
            result.metadata = dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            result.field_violations = [FieldViolation(v.field, v.description) for v in bad.field_violations]
        elif detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
            failure = error_details_pb2.PreconditionFailure()
            detail.Unpack(failure)
            result.precondition_violations = [
                PreconditionViolation(v.type, v.subject, v.description) for v in failure.violations
            ]
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            result.retry_delay = retry.retry_delay.ToTimedelta().total_seconds()
    return result
