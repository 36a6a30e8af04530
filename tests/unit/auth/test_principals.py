"""The principal of a client certificate and the bearer token of a call's metadata."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from inventory_server.auth.principals import bearer_token, certificate_principal


def _pem(common_name: str | None, sans: list[x509.GeneralName]) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


SPIFFE = "spiffe://shop.example/ns/orders/sa/orders"


@pytest.mark.parametrize(
    ("common_name", "sans", "expected"),
    [
        ("orders-cn", [x509.DNSName("orders.example"), x509.UniformResourceIdentifier(SPIFFE)], SPIFFE),
        (
            "orders-cn",
            [x509.UniformResourceIdentifier(SPIFFE), x509.UniformResourceIdentifier("spiffe://x/second")],
            SPIFFE,
        ),
        ("orders-cn", [x509.DNSName("orders.example")], "orders-cn"),
        ("orders-cn", [], "orders-cn"),
        (None, [x509.DNSName("orders.example")], ""),
    ],
)
def test_first_uri_san_else_common_name(
    common_name: str | None, sans: list[x509.GeneralName], expected: str
) -> None:
    assert certificate_principal({"x509_pem_cert": [_pem(common_name, sans)]}) == expected


def test_no_certificate_no_principal() -> None:
    assert certificate_principal({}) == ""
    assert certificate_principal({"x509_pem_cert": [b"not a certificate"]}) == ""


def test_bearer_token_from_metadata() -> None:
    assert bearer_token(None) is None
    assert bearer_token([("x-request-id", "1")]) is None
    assert bearer_token([("authorization", "Bearer abc.def.ghi")]) == "abc.def.ghi"
    assert bearer_token([("Authorization", "bearer  abc ")]) == "abc"
    assert bearer_token([("authorization", "Basic dXNlcjpwYXNz")]) == ""
    assert bearer_token([("authorization", "Bearer")]) == ""
