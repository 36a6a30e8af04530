"""Server-side TLS: gRPC credentials from PEM files, with errors that name the file.

    creds = server_credentials(Path("tls.crt"), Path("tls.key"), client_ca_file=Path("ca.crt"))
    server.add_secure_port("[::]:50051", creds)

``reloading_server_credentials`` does the same and re-reads the files when they
change, for the next TLS handshakes (gRPC's dynamic server credentials ask it
for the configuration before each handshake): a renewed certificate, key or
client CA applies without a restart, and established connections keep theirs.
A half-written or mismatched set is logged and the previous one stays in use.

With a client CA the server asks every client for a certificate signed by it
(mutual TLS) and refuses the handshake without one. The files are checked with
the standard ``ssl`` module first, so a missing file, a key that does not match
its certificate or an encrypted key fails at start-up with a message naming the
file, not later as an opaque handshake failure. No message ever contains the
files' contents.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from pathlib import Path
from typing import NoReturn

import grpc

log = logging.getLogger(__name__)

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


def _certificate_configuration(
    cert_file: Path, key_file: Path, client_ca_file: Path | None
) -> grpc.ServerCertificateConfiguration:
    chain = _read(cert_file, "certificate chain")
    key = _read(key_file, "private key")
    client_ca = _read(client_ca_file, "client CA") if client_ca_file is not None else None
    _check_pair(cert_file, key_file)
    if client_ca_file is not None:
        _check_ca(client_ca_file)
    return grpc.ssl_server_certificate_configuration([(key, chain)], root_certificates=client_ca)


FileState = tuple[tuple[int, int, int, int] | None, ...]


class CertificateRotation:
    """The certificate configuration of the files, fetched again by gRPC before every handshake.

    ``fetch`` returns None ("keep the current one") unless a file changed and
    the new set checks out; gRPC calls it from its own threads, hence the lock.
    """

    def __init__(self, cert_file: Path, key_file: Path, client_ca_file: Path | None = None) -> None:
        self.cert_file, self.key_file, self.client_ca_file = cert_file, key_file, client_ca_file
        self.files = (cert_file, key_file, client_ca_file)
        self.rotations = 0
        self._lock = threading.Lock()
        self._state: FileState = ()
        self._failed_state: FileState | None = None

    def _file_state(self) -> FileState:
        def one(path: Path | None) -> tuple[int, int, int, int] | None:
            if path is None:
                return None
            try:
                st = os.stat(path)  # follows the symlinks a Kubernetes Secret volume swaps
            except OSError:
                return None
            return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

        return tuple(one(path) for path in self.files)

    def load(self) -> grpc.ServerCertificateConfiguration:
        """Read and check the files now; raises ``TLSConfigError`` (at start-up)."""
        state = self._file_state()
        configuration = _certificate_configuration(self.cert_file, self.key_file, self.client_ca_file)
        self._state = state
        return configuration

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        with self._lock:
            state = self._file_state()
            if state == self._state or state == self._failed_state:
                return None
            try:
                configuration = self.load()
            except TLSConfigError as exc:
                self._failed_state = state  # logged once per broken version, not per handshake
                log.error("TLS files changed but cannot be used (%s); keeping the previous ones", exc)
                return None
            except Exception:  # never let an exception escape into gRPC's handshake thread
                self._failed_state = state
                log.exception("TLS reload failed; keeping the previous certificate")
                return None
            self._failed_state = None
            self.rotations += 1
            log.info("TLS certificate files reloaded (rotation %d)", self.rotations)
            return configuration


def reloading_server_credentials(
    cert_file: Path, key_file: Path, client_ca_file: Path | None = None
) -> grpc.ServerCredentials:
    """Like ``server_credentials``, but new handshakes use the files' current content (see the module doc)."""
    rotation = CertificateRotation(cert_file, key_file, client_ca_file)
    return grpc.dynamic_ssl_server_credentials(
        rotation.load(),
        rotation.fetch,  # type: ignore[arg-type]  # None = keep the current configuration (grpc's docs)
        require_client_authentication=client_ca_file is not None,
    )
