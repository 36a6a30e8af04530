"""TLS and mutual TLS on a real grpc.aio server, called through the client package.

A throwaway CA (trustme) signs the server certificate and the client
certificates; the server runs on 127.0.0.1 with only the health service, which
is enough to prove who may complete a handshake. The second half checks that a
bad file fails at start-up with a message naming the file and never its
contents.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from inventory_client import InventoryClient
from inventory_server.tls import TLSConfigError, server_credentials


@dataclass(frozen=True)
class Pki:
    """Files and PEM bytes of a test PKI: one CA, a server certificate, a client certificate."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    ca_pem: bytes
    client_cert_pem: bytes
    client_key_pem: bytes
    stranger_cert_pem: bytes  # a client certificate from a CA the server does not trust
    stranger_key_pem: bytes


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("orders.example.internal")
    stranger = trustme.CA().issue_cert("intruder.example.internal")
    ca.cert_pem.write_to_path(str(folder / "ca.crt"))
    server.cert_chain_pems[0].write_to_path(str(folder / "tls.crt"))
    for extra in server.cert_chain_pems[1:]:
        extra.write_to_path(str(folder / "tls.crt"), append=True)
    server.private_key_pem.write_to_path(str(folder / "tls.key"))
    return Pki(
        ca_file=folder / "ca.crt",
        cert_file=folder / "tls.crt",
        key_file=folder / "tls.key",
        ca_pem=ca.cert_pem.bytes(),
        client_cert_pem=b"".join(blob.bytes() for blob in client.cert_chain_pems),
        client_key_pem=client.private_key_pem.bytes(),
        stranger_cert_pem=b"".join(blob.bytes() for blob in stranger.cert_chain_pems),
        stranger_key_pem=stranger.private_key_pem.bytes(),
    )


@asynccontextmanager
async def health_server(credentials: grpc.ServerCredentials) -> AsyncIterator[str]:
    """A grpc.aio server on 127.0.0.1 with a SERVING health service behind ``credentials``."""
    server = aio.server()
    servicer = health.aio.HealthServicer()  # type: ignore[attr-defined]
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    assert port > 0
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


def check_health(client: InventoryClient) -> int:
    """One Health/Check through the client's channel; the status, or raises grpc.RpcError."""
    stub = health_pb2_grpc.HealthStub(client.channel)
    reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    return int(reply.status)


async def call(client: InventoryClient) -> int:
    # The client is synchronous; run it off the event loop that serves.
    try:
        return await asyncio.to_thread(check_health, client)
    finally:
        client.close()


async def refused(client: InventoryClient) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as failure:
        await call(client)
    code = failure.value.code()
    assert isinstance(code, grpc.StatusCode)
    return code


SERVING = health_pb2.HealthCheckResponse.SERVING


# --- server TLS (no client certificate asked for) ---------------------------------------------


async def test_client_that_trusts_the_ca_is_served_over_tls(pki: Pki) -> None:
    async with health_server(server_credentials(pki.cert_file, pki.key_file, None)) as target:
        assert await call(InventoryClient(target, root_certificates=pki.ca_pem)) == SERVING


async def test_plaintext_client_cannot_talk_to_a_tls_server(pki: Pki) -> None:
    async with health_server(server_credentials(pki.cert_file, pki.key_file, None)) as target:
        assert await refused(InventoryClient(target)) == grpc.StatusCode.UNAVAILABLE


async def test_client_that_does_not_trust_the_ca_is_refused(pki: Pki) -> None:
    stranger_ca = trustme.CA().cert_pem.bytes()
    async with health_server(server_credentials(pki.cert_file, pki.key_file, None)) as target:
        assert (
            await refused(InventoryClient(target, root_certificates=stranger_ca))
            == grpc.StatusCode.UNAVAILABLE
        )


# --- mutual TLS -------------------------------------------------------------------------------


def mtls_client(target: str, pki: Pki, cert: bytes | None, key: bytes | None) -> InventoryClient:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=pki.ca_pem, private_key=key, certificate_chain=cert
    )
    return InventoryClient(target, credentials=credentials)


async def test_mtls_serves_a_client_with_a_certificate_from_the_client_ca(pki: Pki) -> None:
    creds = server_credentials(pki.cert_file, pki.key_file, client_ca_file=pki.ca_file)
    async with health_server(creds) as target:
        client = mtls_client(target, pki, pki.client_cert_pem, pki.client_key_pem)
        assert await call(client) == SERVING


async def test_mtls_refuses_a_client_without_a_certificate(pki: Pki) -> None:
    creds = server_credentials(pki.cert_file, pki.key_file, client_ca_file=pki.ca_file)
    async with health_server(creds) as target:
        client = InventoryClient(target, root_certificates=pki.ca_pem)
        assert await refused(client) == grpc.StatusCode.UNAVAILABLE


async def test_mtls_refuses_a_client_certificate_from_another_ca(pki: Pki) -> None:
    creds = server_credentials(pki.cert_file, pki.key_file, client_ca_file=pki.ca_file)
    async with health_server(creds) as target:
        client = mtls_client(target, pki, pki.stranger_cert_pem, pki.stranger_key_pem)
        assert await refused(client) == grpc.StatusCode.UNAVAILABLE


async def test_mtls_refuses_a_plaintext_client(pki: Pki) -> None:
    creds = server_credentials(pki.cert_file, pki.key_file, client_ca_file=pki.ca_file)
    async with health_server(creds) as target:
        assert await refused(InventoryClient(target)) == grpc.StatusCode.UNAVAILABLE


# --- bad files fail at start-up, naming the file and never quoting it --------------------------


def key_material(pem: bytes) -> list[str]:
    """The base64 lines of a PEM block: what must never appear in a message."""
    return [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]


def test_missing_certificate_file_is_named(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "absent.crt"
    with pytest.raises(TLSConfigError, match=r"certificate chain file .*absent\.crt does not exist"):
        server_credentials(missing, pki.key_file, None)


def test_missing_key_file_is_named(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "absent.key"
    with pytest.raises(TLSConfigError, match=r"private key file .*absent\.key does not exist"):
        server_credentials(pki.cert_file, missing, None)


def test_missing_client_ca_file_is_named(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "absent-ca.crt"
    with pytest.raises(TLSConfigError, match=r"client CA file .*absent-ca\.crt does not exist"):
        server_credentials(pki.cert_file, pki.key_file, missing)


def test_unreadable_key_file_is_named(pki: Pki, tmp_path: Path) -> None:
    folder = tmp_path / "a-directory.key"
    folder.mkdir()
    with pytest.raises(TLSConfigError, match=r"private key file .*a-directory\.key is a directory"):
        server_credentials(pki.cert_file, folder, None)


def test_key_that_belongs_to_another_certificate_is_refused_without_quoting_it(
    pki: Pki, tmp_path: Path
) -> None:
    other_key = tmp_path / "other.key"
    other_key.write_bytes(pki.client_key_pem)
    with pytest.raises(TLSConfigError) as failure:
        server_credentials(pki.cert_file, other_key, None)
    message = str(failure.value)
    assert "other.key" in message
    assert "KEY_VALUES_MISMATCH" in message
    assert not any(line in message for line in key_material(pki.client_key_pem))


def test_encrypted_key_is_refused_instead_of_prompting_for_a_pass_phrase(pki: Pki, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(pki.key_file.read_bytes(), password=None)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"correct horse battery staple"),
        )
    )
    with pytest.raises(TLSConfigError, match=r"private key file .*encrypted\.key is encrypted"):
        server_credentials(pki.cert_file, encrypted, None)


def test_file_without_pem_is_named(pki: Pki, tmp_path: Path) -> None:
    der = tmp_path / "tls.der"
    der.write_bytes(b"\x30\x82\x01\x0a not pem at all")
    with pytest.raises(TLSConfigError, match=r"certificate chain file .*tls\.der holds no PEM block"):
        server_credentials(der, pki.key_file, None)


def test_key_given_as_client_ca_is_refused_without_quoting_it(pki: Pki) -> None:
    with pytest.raises(TLSConfigError) as failure:
        server_credentials(pki.cert_file, pki.key_file, pki.key_file)
    message = str(failure.value)
    assert re.search(r"client CA file .*tls\.key holds no usable PEM certificate", message)
    assert not any(line in message for line in key_material(pki.key_file.read_bytes()))
