"""Domain errors: plain exceptions, turned into gRPC status codes only at the edge.

The mapping to status codes lives in one place, ``inventory_server.api.errors``.
Messages are safe to show to callers: they never carry DSNs, hashes or SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request (google.rpc.BadRequest.FieldViolation)."""

    field: str
    description: str


@dataclass(frozen=True)
class PreconditionViolation:
    """One failed precondition (google.rpc.PreconditionFailure.Violation)."""

    type: str
    subject: str
    description: str


class DomainError(Exception):
    """Base of every error the service reports to callers on purpose.

    ``reason`` is a stable UPPER_SNAKE_CASE string for google.rpc.ErrorInfo.
    """

    reason = "DOMAIN_ERROR"

    def __init__(self, message: str, *, reason: str | None = None, metadata: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(DomainError):
    """The request is malformed; retrying it unchanged cannot succeed."""

    reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str,
        *,
        violations: list[FieldViolation] | None = None,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ):
        super().__init__(message, reason=reason, metadata=metadata)
        self.violations: list[FieldViolation] = list(violations or [])

    @classmethod
    def field(cls, name: str, description: str) -> InvalidArgument:
        """A single bad field: ``InvalidArgument.field("quantity", "must be positive")``."""
        return cls(f"{name}: {description}", violations=[FieldViolation(name, description)])


class NotFound(DomainError):
    """A resource that the request names does not exist."""

    reason = "NOT_FOUND"

    def __init__(self, resource: str, key: str, *, message: str | None = None):
        super().__init__(
            message or f"{resource} {key!r} not found", metadata={"resource": resource, "key": key}
        )
        self.resource = resource
        self.key = key


class AlreadyExists(DomainError):
    """A unique field (sku, code, email) is already taken."""

    reason = "ALREADY_EXISTS"

    def __init__(self, resource: str, field_name: str, value: str):
        super().__init__(
            f"{resource} with {field_name} {value!r} already exists",
            metadata={"resource": resource, "field": field_name},
        )
        self.resource = resource
        self.field_name = field_name
        self.value = value


class FailedPrecondition(DomainError):
    """The system is not in a state that allows the operation (for example, too little stock)."""

    reason = "FAILED_PRECONDITION"

    def __init__(
        self,
        message: str,
        *,
        violations: list[PreconditionViolation] | None = None,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ):
        super().__init__(message, reason=reason, metadata=metadata)
        self.violations: list[PreconditionViolation] = list(violations or [])


class Deleted(FailedPrecondition):
    """The resource is soft-deleted, and a deleted resource cannot be changed (only undeleted).

    FAILED_PRECONDITION rather than NOT_FOUND: Get still returns the resource
    (with its delete_time), so it exists; its state forbids the change.
    """

    def __init__(self, resource: str, key: str):
        super().__init__(
            f"{resource} {key!r} is deleted; a deleted {resource} cannot be changed",
            reason="DELETED",
            metadata={"resource": resource, "key": key},
            violations=[
                PreconditionViolation("DELETED", f"{resource}s/{key}", "undelete it before changing it")
            ],
        )


class EtagMismatch(DomainError):
    """The caller's etag is stale: someone else changed the resource (maps to ABORTED)."""

    reason = "ETAG_MISMATCH"

    def __init__(self, resource: str, key: str):
        super().__init__(
            f"{resource} {key!r} was modified; read it again and retry", metadata={"resource": resource}
        )
        self.resource = resource
        self.key = key


class Conflict(DomainError):
    """A concurrency conflict that persisted after the service's own retries (maps to ABORTED)."""

    reason = "CONCURRENCY_CONFLICT"


class Unauthenticated(DomainError):
    """Credentials are missing or wrong. The message never says which part was wrong."""

    reason = "UNAUTHENTICATED"


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""

    reason = "PERMISSION_DENIED"


class Unavailable(DomainError):
    """The database cannot be reached or the pool is exhausted; the caller may retry."""

    reason = "DATABASE_UNAVAILABLE"


class DeadlineExceeded(DomainError):
    """The caller's deadline ran out while the database was working."""

    reason = "DEADLINE_EXCEEDED"


class ResourceExhausted(DomainError):
    """A limit is reached (concurrent change streams, failed logins); retry later or elsewhere.

    ``retry_after`` (seconds) is what the caller is told to wait (google.rpc.RetryInfo);
    None means "shortly".
    """

    reason = "RESOURCE_EXHAUSTED"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, reason=reason, metadata=metadata)
        self.retry_after = retry_after


class Aborted(DomainError):
    """The call was ended on purpose and can be continued from where it stopped (maps to ABORTED)."""

    reason = "ABORTED"


@dataclass(frozen=True)
class ErrorDetails:
    """Helper for collecting several field violations before raising one InvalidArgument."""

    violations: list[FieldViolation] = field(default_factory=list)

    def add(self, name: str, description: str) -> None:
        self.violations.append(FieldViolation(name, description))

    def raise_if_any(self, message: str = "invalid request") -> None:
        if self.violations:
            fields = ", ".join(v.field for v in self.violations)
            raise InvalidArgument(f"{message}: {fields}", violations=list(self.violations))
