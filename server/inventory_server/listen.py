"""Listening on the configured address: a busy port is an error, never a shared one.

gRPC's C core sets SO_REUSEPORT on its listeners by default, so a second
server started on a busy port binds "successfully" beside the first and the
kernel splits connections between the two, which may well use different
databases. The server therefore turns the option off (``grpc.so_reuseport``
= 0) and treats a failed bind as fatal: ``ListenError`` names the address and
the CLI prints it as one line and exits 3.

Before anything connects, ``ensure_free`` binds a plain socket to the address
the way gRPC will (SO_REUSEADDR, no SO_REUSEPORT) and closes it again: a busy
port then fails fast, with the operating system's reason, and without the
multi-line log gRPC's core writes when its own bind fails. The bind inside
gRPC stays the real check (``bind`` turns its failure into the same error).

A later multi-process mode may share one port among its *own* workers: the
parent checks the address once with ``ensure_free`` and gives the workers
``server_options(share_port=True)``; nothing else ever sets that.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence

import grpc
from grpc import aio


class ListenError(OSError):
    """The server cannot listen on its address (in use, not available, no permission)."""

    def __init__(self, address: str, reason: str):
        self.address = address
        self.reason = reason
        super().__init__(f"cannot listen on {address}: {reason}")


def server_options(base: Sequence[tuple[str, int]], *, share_port: bool = False) -> list[tuple[str, int]]:
    """``base`` plus the port-sharing option: off unless workers of one server share a port."""
    return [
        *(option for option in base if option[0] != "grpc.so_reuseport"),
        ("grpc.so_reuseport", int(share_port)),
    ]


def _bind_targets(host: str, port: int) -> list[tuple[socket.AddressFamily, tuple[object, ...], bool]]:
    """(family, sockaddr, dual_stack) for each address gRPC would listen on for ``host``."""
    name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    # gRPC's wildcard: one dual-stack IPv6 socket (or IPv4 only)
    if name in ("", "::", "0.0.0.0", "*"):  # noqa: S104 - checking the wildcard the settings ask for
        if socket.has_ipv6:
            return [(socket.AF_INET6, ("::", port, 0, 0), True)]
        return [(socket.AF_INET, ("0.0.0.0", port), False)]  # noqa: S104 - the wildcard was asked for
    infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    return [(family, tuple(sockaddr), False) for family, _, _, _, sockaddr in infos]


def ensure_free(host: str, port: int) -> None:
    """Raise ListenError when ``host:port`` cannot be bound now (e.g. another process listens there)."""
    address = f"{host}:{port}"
    try:
        targets = _bind_targets(host, port)
    except OSError as exc:
        raise ListenError(address, f"cannot resolve the host ({exc.strerror or exc})") from None
    for family, sockaddr, dual_stack in targets:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC does: TIME_WAIT is fine
            if dual_stack:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                raise ListenError(address, _reason(exc)) from None


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "address already in use (another process listens on this port)"
    if exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges)"
    return exc.strerror or str(exc)


def bind(server: aio.Server, address: str, credentials: grpc.ServerCredentials | None = None) -> int:
    """Add ``address`` to ``server``; returns the bound port or raises ListenError (never returns 0)."""
    try:
        if credentials is not None:
            port = server.add_secure_port(address, credentials)
        else:
            port = server.add_insecure_port(address)
    except RuntimeError:  # grpc raises "Failed to bind to address ..." (its core logged the cause)
        raise ListenError(address, "the address is in use or not available") from None
    if port == 0:  # older grpc versions report a failed bind as port 0
        raise ListenError(address, "the address is in use or not available")
    return port
