"""The channel settings both clients share: service config, options and credentials.

Retries and balancing are declared in the gRPC service config, never coded by
hand: gRPC retries UNAVAILABLE with backoff (only while no response byte has
arrived, so a retried write is never applied twice without a ``request_id``)
and spreads calls over every address a ``dns:///`` target resolves to.
"""

from __future__ import annotations

import json
from typing import Any

import grpc

from inventory_client.v1 import (
    audit_pb2,
    product_pb2,
    stats_pb2,
    stock_pb2,
    transaction_pb2,
    user_pb2,
    warehouse_pb2,
)

# Taken from the generated descriptors, so a new service is configured as soon as it is generated.
SERVICES: tuple[str, ...] = tuple(
    service.full_name
    for module in (product_pb2, warehouse_pb2, user_pb2, stock_pb2, transaction_pb2, stats_pb2, audit_pb2)
    for service in module.DESCRIPTOR.services_by_name.values()
)

ChannelOptions = list[tuple[str, Any]]


def service_config(max_attempts: int = 4) -> str:
    """The gRPC service config: retry UNAVAILABLE with backoff (max_attempts 1 = no retries), round robin."""
    method: dict[str, Any] = {"name": [{"service": name} for name in SERVICES]}
    if max_attempts >= 2:  # gRPC refuses a retry policy with fewer than 2 attempts
        method["retryPolicy"] = {
            "maxAttempts": max_attempts,
            "initialBackoff": "0.1s",
            "maxBackoff": "2s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
    config: dict[str, Any] = {"loadBalancingConfig": [{"round_robin": {}}], "methodConfig": [method]}
    return json.dumps(config)


def channel_options(
    max_attempts: int, tls_server_name: str | None, options: ChannelOptions | None
) -> ChannelOptions:
    """Service config and retries first, so that the caller's ``options`` can override either."""
    result: ChannelOptions = [
        ("grpc.service_config", service_config(max_attempts)),
        ("grpc.enable_retries", 1),
    ]
    if tls_server_name is not None:
        result.append(("grpc.ssl_target_name_override", tls_server_name))
    return [*result, *(options or [])]


def channel_credentials(
    *,
    tls: bool,
    root_certificates: bytes | None,
    client_cert: bytes | None,
    client_key: bytes | None,
    credentials: grpc.ChannelCredentials | None,
) -> grpc.ChannelCredentials | None:
    """TLS credentials (with a client certificate for mutual TLS), or None for a plaintext channel."""
    if (client_cert is None) != (client_key is None):
        raise ValueError("client_cert and client_key go together (mutual TLS needs both)")
    if credentials is not None:
        if root_certificates is not None or client_cert is not None:
            raise ValueError("credentials= replaces root_certificates, client_cert and client_key")
        return credentials
    if tls or root_certificates is not None or client_cert is not None:
        return grpc.ssl_channel_credentials(
            root_certificates=root_certificates, private_key=client_key, certificate_chain=client_cert
        )
    return None


def open_channel(
    module: Any, target: str, credentials: grpc.ChannelCredentials | None, options: ChannelOptions
) -> Any:
    """A channel from ``grpc`` or ``grpc.aio`` (both modules spell these calls the same way)."""
    if credentials is not None:
        return module.secure_channel(target, credentials, options=options)
    return module.insecure_channel(target, options=options)
