"""Server-side TLS: gRPC credentials from PEM files, with errors that name the file.

    creds = server_credentials(Path("tls.crt"), Path("tls.key"), client_ca_file=Path("ca.crt"))
    server.add_secure_port("[::]:50051", creds)

With a client CA the server asks every client for a certificate signed by it
(mutual TLS) and refuses the handshake without one. The files are checked with
the standard ``ssl`` module first, so a missing file, a key that does not match
its certificate or an encrypted key fails at start-up with a message naming the
file, not later as an opaque handshake failure. No message ever contains the
files' contents.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import NoReturn

import grpc

PEM_MARKER = b"-----BEGIN "


class TLSConfigError(ValueError):
    """A TLS file is missing, unreadable or not usable; the message names the file, never its contents."""


def _read(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TLSConfigError(f"{what} file {path} does not exist") from None
    except IsADirectoryError:
        raise TLSConfigError(f"{what} file {path} is a directory") from None
    except PermissionError:
        raise TLSConfigError(f"{what} file {path} is not readable by this process") from None
    except OSError as exc:
        raise TLSConfigError(f"{what} file {path} cannot be read: {exc.strerror}") from None
    if PEM_MARKER not in data:
        raise TLSConfigError(f"{what} file {path} holds no PEM block (expected '-----BEGIN ...')")
    return data


def _encrypted_key(key_file: Path) -> NoReturn:
    # Called by OpenSSL only when the key is encrypted: gRPC cannot use such a key, and a
    # server must never stop to prompt for a pass phrase.
    raise TLSConfigError(f"private key file {key_file} is encrypted; gRPC needs an unencrypted PEM key")


def _reason(exc: ssl.SSLError) -> str:
    """OpenSSL's short reason code (e.g. KEY_VALUES_MISMATCH), which never quotes the file."""
    return f" ({exc.reason})" if exc.reason else ""


def _check_pair(cert_file: Path, key_file: Path) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert_file, key_file, password=lambda: _encrypted_key(key_file))
    except ssl.SSLError as exc:
        raise TLSConfigError(
            f"certificate chain file {cert_file} and private key file {key_file} cannot be used "
            f"together{_reason(exc)}: is the key the one for this certificate, both in PEM?"
        ) from None


def _check_ca(ca_file: Path) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_verify_locations(cafile=ca_file)
    except ssl.SSLError as exc:
        raise TLSConfigError(
            f"client CA file {ca_file} holds no usable PEM certificate{_reason(exc)}"
        ) from None


def server_credentials(
    cert_file: Path, key_file: Path, client_ca_file: Path | None = None
) -> grpc.ServerCredentials:
    """Credentials for ``server.add_secure_port``; mutual TLS when ``client_ca_file`` is given.

    ``cert_file`` is the server certificate followed by any intermediates (PEM),
    ``key_file`` its unencrypted private key (PEM), ``client_ca_file`` the CA
    bundle that client certificates must chain to. Raises ``TLSConfigError``.
    """
    chain = _read(cert_file, "certificate chain")
    key = _read(key_file, "private key")
    client_ca = _read(client_ca_file, "client CA") if client_ca_file is not None else None
    _check_pair(cert_file, key_file)
    if client_ca_file is not None:
        _check_ca(client_ca_file)
    return grpc.ssl_server_credentials(
        [(key, chain)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )
