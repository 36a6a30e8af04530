"""inventory-client: generated inventory.v1 stubs (``inventory_client.v1``) and a thin client.

Documented in docs/client.md of the repository; changes in CHANGELOG.md.
"""

from inventory_client.auth import AsyncTokenProvider, Token, TokenProvider
from inventory_client.client import AsyncInventoryClient, InventoryClient, service_config
from inventory_client.errors import (
    AbortedError,
    AlreadyExistsError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    InventoryError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
)

__version__ = "0.2.0"

__all__ = [
    "AbortedError",
    "AlreadyExistsError",
    "AsyncInventoryClient",
    "AsyncTokenProvider",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "InventoryClient",
    "InventoryError",
    "NotFoundError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "Token",
    "TokenProvider",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "__version__",
    "service_config",
]
