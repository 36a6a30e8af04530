"""The principal of a call's credentials: a verified client certificate, a bearer token.

A client certificate names its principal by its first URI subject alternative
name (a SPIFFE ID such as ``spiffe://shop.example/ns/orders/sa/orders``), else
by its subject common name. The certificate comes from gRPC's auth context,
which holds it only after the TLS handshake verified it against the client CA,
and is read with ``cryptography`` (gRPC's own property list does not keep the
SAN order or tell URI from DNS names).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cryptography import x509
from cryptography.x509.oid import NameOID

AUTHORIZATION = "authorization"
BEARER = "bearer "


def certificate_principal(auth_context: Mapping[str, Iterable[bytes]]) -> str:
    """The principal of the verified peer certificate in ``auth_context``, or "" without one."""
    pems = list(auth_context.get("x509_pem_cert") or [])
    if not pems:
        return ""
    try:
        certificate = x509.load_pem_x509_certificate(bytes(pems[0]))
    except ValueError:
        return ""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = names.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    if uris:
        return str(uris[0])
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(common_names[0].value) if common_names else ""


def bearer_token(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    """The token of the call's ``authorization: Bearer <token>`` metadata; "" for another scheme.

    None when there is no authorization metadata at all. A malformed header
    ("" here) is a failed authentication, never an anonymous call.
    """
    for key, value in metadata or ():
        if key.lower() != AUTHORIZATION:
            continue
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        if text[: len(BEARER)].lower() != BEARER:
            return ""
        return text[len(BEARER) :].strip()
    return None
