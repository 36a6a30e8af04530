"""Credentials for the authorization tests: a token issuer with a JWKS file, client certificates, policies."""

from __future__ import annotations

import datetime
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import jwt
import trustme
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor

from inventory_server.app import permission_names

ISSUER = "https://issuer.test"
AUDIENCE = "inventory"
AUTH_MESSAGE = "missing or invalid credentials"


@dataclass
class Issuer:
    """Signs ES256 tokens; ``jwks_file`` holds the public keys of ``published`` key ids."""

    jwks_file: Path
    keys: dict[str, ec.EllipticCurvePrivateKey] = field(default_factory=dict)

    def new_key(self, kid: str) -> None:
        self.keys[kid] = ec.generate_private_key(ec.SECP256R1())

    def publish(self, *kids: str) -> None:
        """Write the JWKS with exactly these keys (atomically, as a ConfigMap update would)."""
        entries = []
        for kid in kids:
            jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.keys[kid].public_key()))
            entries.append({**jwk, "kid": kid, "use": "sig", "alg": "ES256"})
        tmp = self.jwks_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"keys": entries}))
        tmp.replace(self.jwks_file)

    def token(self, sub: str, *, kid: str = "k1", **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": [AUDIENCE, "other"], "sub": sub, "iat": now, "exp": now + 300}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.keys[kid], algorithm="ES256", headers={"kid": kid})


def write_file(path: Path, text: str) -> None:
    """Replace ``path`` atomically (a new inode, as Kubernetes' volume updates do)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def client_certificate(
    ca: trustme.CA, *, uri: str | None = None, common_name: str = "client"
) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) signed by ``ca``: subject CN ``common_name``, a URI SAN when given."""
    ca_key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )
    if uri is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("ignored.example"), x509.UniformResourceIdentifier(uri)]
            ),
            critical=False,
        )
    certificate = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    return (
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def write_server_files(ca: trustme.CA, folder: Path, prefix: str = "server") -> tuple[Path, Path, Path]:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file, ca_file = (
        folder / f"{prefix}.pem",
        folder / f"{prefix}.key",
        folder / f"{prefix}-ca.pem",
    )
    write_file(cert_file, "".join(blob.bytes().decode() for blob in cert.cert_chain_pems))
    write_file(key_file, cert.private_key_pem.bytes().decode())
    write_file(ca_file, ca.cert_pem.bytes().decode())
    return cert_file, key_file, ca_file


def guarded_methods() -> list[str]:
    """Every method a policy guards (health is always open)."""
    return [name for name in permission_names() if not name.startswith("grpc.health.v1.")]


def one_method_policy(principal_of: dict[str, str]) -> str:
    """A policy with one role per method, bound to ``principal_of[method]``."""
    methods = sorted(principal_of)
    roles = {f"only-{i}": [method] for i, method in enumerate(methods)}
    bindings = [
        {"principal": principal_of[method], "roles": [f"only-{i}"]} for i, method in enumerate(methods)
    ]
    return yaml.safe_dump({"roles": roles, "bindings": bindings})


def _descriptor(method: str) -> MethodDescriptor:
    from google.protobuf import descriptor_pool
    from grpc_reflection.v1alpha import reflection_pb2

    service, name = method.split("/")
    if service == "grpc.reflection.v1.ServerReflection":  # the same messages as v1alpha's
        service = reflection_pb2.DESCRIPTOR.services_by_name["ServerReflection"].full_name
    return descriptor_pool.Default().FindServiceByName(service).methods_by_name[name]


def call(channel: grpc.Channel, method: str, metadata: tuple[tuple[str, str], ...] = ()) -> grpc.StatusCode:
    """Call ``method`` with an empty request; the status code (OK when it answered)."""
    descriptor = _descriptor(method)
    request_type = message_factory.GetMessageClass(descriptor.input_type)
    response_type = message_factory.GetMessageClass(descriptor.output_type)
    path = "/" + method
    kwargs: dict[str, Any] = {
        "request_serializer": request_type.SerializeToString,
        "response_deserializer": response_type.FromString,
    }
    try:
        if descriptor.client_streaming and descriptor.server_streaming:
            list(channel.stream_stream(path, **kwargs)(iter([request_type()]), metadata=metadata, timeout=10))
        elif descriptor.client_streaming:
            channel.stream_unary(path, **kwargs)(iter([request_type()]), metadata=metadata, timeout=10)
        elif descriptor.server_streaming:
            list(channel.unary_stream(path, **kwargs)(request_type(), metadata=metadata, timeout=10))
        else:
            channel.unary_unary(path, **kwargs)(request_type(), metadata=metadata, timeout=10)
    except grpc.RpcError as error:
        code = error.code()
        if code == grpc.StatusCode.UNAUTHENTICATED and error.details() != AUTH_MESSAGE:
            return grpc.StatusCode.INVALID_ARGUMENT  # a failed login, not the interceptor: not an auth error
        return code
    return grpc.StatusCode.OK


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def new_principal() -> str:
    return f"svc-{uuid.uuid4().hex[:8]}"
