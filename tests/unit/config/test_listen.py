"""A busy address is a ListenError naming it, whether the check or gRPC's own bind finds it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from grpc import aio

from inventory_server.listen import ListenError, bind, ensure_free, server_options


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port another process listens on, with SO_REUSEPORT (what grpc's default would share)."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def test_a_held_port_is_refused_by_name(held_port: int) -> None:
    with pytest.raises(ListenError) as raised:
        ensure_free("127.0.0.1", held_port)
    assert str(raised.value) == (
        f"cannot listen on 127.0.0.1:{held_port}: "
        "address already in use (another process listens on this port)"
    )


def test_the_wildcard_sees_a_port_held_on_one_interface(held_port: int) -> None:
    with pytest.raises(ListenError, match=r"cannot listen on \[::\]:\d+: address already in use"):
        ensure_free("[::]", held_port)


def test_a_free_port_passes_and_stays_free() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    ensure_free("127.0.0.1", port)
    ensure_free("127.0.0.1", port)  # the check released it again


def test_an_unresolvable_host_is_a_listen_error() -> None:
    with pytest.raises(ListenError, match="cannot resolve the host"):
        ensure_free("no-such-host.invalid", 50051)


async def test_grpc_failing_to_bind_is_the_same_error(held_port: int) -> None:
    server = aio.server(options=server_options([]))
    try:
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{held_port}"):
            bind(server, f"127.0.0.1:{held_port}")
    finally:
        await server.stop(None)
