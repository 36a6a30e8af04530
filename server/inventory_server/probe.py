"""``inventory-server probe``: a gRPC health check that behaves like grpc_health_probe.

The same flags (Go ``flag`` syntax: ``-addr=host:port``, ``-addr host:port``,
``--addr``; booleans as ``-tls`` or ``-tls=false``; durations as ``1s``,
``250ms``, ``1m30s``) and the same exit codes, so a HEALTHCHECK, ECS or
Nomad check written for grpc_health_probe works unchanged:

====  =============================================================
0     the service answered SERVING
1     invalid arguments (also: unreadable TLS files)
2     connection failure (nothing listening, TLS handshake refused)
      within ``-connect-timeout``
3     the Check RPC failed (unknown service, UNIMPLEMENTED, deadline)
4     the service answered something other than SERVING
====  =============================================================

Not supported (refused with exit 1, never silently ignored): ``-tls-no-verify``
(Python gRPC cannot skip verification), ``-alts`` and ``-spiffe``.

It is run every few seconds by container health checks, so it imports only
grpc and the health messages: nothing of the service, no psycopg.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

EXIT_SERVING = 0
EXIT_INVALID_ARGUMENTS = 1
EXIT_CONNECTION_FAILURE = 2
EXIT_RPC_FAILURE = 3
EXIT_UNHEALTHY = 4

USAGE = """usage: inventory-server probe -addr=HOST:PORT [flags]

Ask a gRPC server's grpc.health.v1 service whether it is SERVING (like grpc_health_probe).

flags:
  -addr string             address of the server, e.g. 127.0.0.1:50051 (required)
  -service string          service name to check (default "": the server as a whole;
                           "liveness" = the process only, whatever the database does)
  -connect-timeout DURATION  timeout for establishing the connection (default 1s)
  -rpc-timeout DURATION    timeout for the health RPC (default 1s)
  -tls                     use TLS (default false)
  -tls-ca-cert PATH        CA bundle to verify the server with (default: the system roots)
  -tls-client-cert PATH    client certificate for mutual TLS (needs -tls-client-key)
  -tls-client-key PATH     private key of the client certificate
  -tls-server-name NAME    name to verify the server certificate against (default: from -addr)
  -user-agent string       user-agent header value (default "grpc_health_probe")
  -rpc-header "K: V"       extra metadata for the RPC; repeatable
  -gzip                    compress the request with gzip
  -v                       verbose: print what is done and how long it takes

exit codes: 0 serving, 1 invalid arguments, 2 connection failure, 3 RPC failure, 4 not serving

example (a Docker HEALTHCHECK):
  inventory-server probe -addr=127.0.0.1:50051
"""

_BOOL_FLAGS = {"tls", "gzip", "v", "tls-no-verify", "alts", "spiffe"}
_VALUE_FLAGS = {
    "addr",
    "service",
    "connect-timeout",
    "rpc-timeout",
    "tls-ca-cert",
    "tls-client-cert",
    "tls-client-key",
    "tls-server-name",
    "user-agent",
    "rpc-header",
}
_UNSUPPORTED = {
    "tls-no-verify": "Python gRPC cannot skip certificate verification; pass -tls-ca-cert instead",
    "alts": "ALTS is not supported",
    "spiffe": "SPIFFE is not supported",
}
_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)", re.ASCII)
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class ArgumentError(ValueError):
    """Invalid flags: exit 1, like grpc_health_probe."""


class HelpRequested(Exception):
    """-h / -help: print the usage and exit 0."""


@dataclass
class ProbeOptions:
    """The parsed flags."""

    addr: str = ""
    service: str = ""
    connect_timeout: float = 1.0
    rpc_timeout: float = 1.0
    tls: bool = False
    tls_ca_cert: str = ""
    tls_client_cert: str = ""
    tls_client_key: str = ""
    tls_server_name: str = ""
    user_agent: str = "grpc_health_probe"
    rpc_headers: list[tuple[str, str]] = field(default_factory=list)
    gzip: bool = False
    verbose: bool = False


def parse_duration(text: str) -> float:
    """A Go duration in seconds: ``1s``, ``250ms``, ``1m30s``, ``1.5h``; ``0`` alone is zero.

    >>> parse_duration("1m30s"), parse_duration("250ms"), parse_duration("0")
    (90.0, 0.25, 0.0)
    """
    value = text.strip()
    sign = -1.0 if value.startswith("-") else 1.0
    value = value.lstrip("+-")
    if value == "0":
        return 0.0
    total, position = 0.0, 0
    for match in _DURATION_PART.finditer(value):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not value or position != len(value):
        raise ArgumentError(f"invalid duration {text!r} (examples: 1s, 250ms, 1m30s)")
    return sign * total


def _bool(name: str, value: str | None) -> bool:
    if value is None:
        return True
    lowered = value.lower()
    if lowered in ("1", "t", "true"):
        return True
    if lowered in ("0", "f", "false"):
        return False
    raise ArgumentError(f'invalid boolean value "{value}" for -{name}')


def parse_args(argv: Sequence[str]) -> ProbeOptions:
    """Parse Go-style flags into ProbeOptions and check them as grpc_health_probe does."""
    options = ProbeOptions()
    args = list(argv)
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if not arg.startswith("-") or arg in ("-", "--"):
            raise ArgumentError(f"unexpected argument {arg!r}")
        name, has_value, value = arg.lstrip("-").partition("=")
        if name in ("h", "help"):
            raise HelpRequested
        if name in _BOOL_FLAGS:
            enabled = _bool(name, value if has_value else None)
            if name in _UNSUPPORTED and enabled:
                raise ArgumentError(f"-{name}: {_UNSUPPORTED[name]}")
            if name == "tls":
                options.tls = enabled
            elif name == "gzip":
                options.gzip = enabled
            elif name == "v":
                options.verbose = enabled
            continue
        if name not in _VALUE_FLAGS:
            raise ArgumentError(f"flag provided but not defined: -{name}")
        if not has_value:
            if index >= len(args):
                raise ArgumentError(f"flag needs an argument: -{name}")
            value = args[index]
            index += 1
        _set_value(options, name, value)
    _check(options)
    return options


def _set_value(options: ProbeOptions, name: str, value: str) -> None:
    if name == "connect-timeout":
        options.connect_timeout = parse_duration(value)
    elif name == "rpc-timeout":
        options.rpc_timeout = parse_duration(value)
    elif name == "rpc-header":
        key, colon, header_value = value.partition(":")
        if not colon or not key.strip():
            raise ArgumentError(f'-rpc-header: expected "key: value", got {value!r}')
        options.rpc_headers.append((key.strip().lower(), header_value.strip()))
    else:
        setattr(options, name.replace("-", "_"), value)


def _check(o: ProbeOptions) -> None:
    """The argument checks of grpc_health_probe, with its messages."""
    if not o.addr:
        raise ArgumentError("-addr not specified")
    if o.connect_timeout <= 0:
        raise ArgumentError(f"-connect-timeout must be greater than zero (specified: {o.connect_timeout:g}s)")
    if o.rpc_timeout <= 0:
        raise ArgumentError(f"-rpc-timeout must be greater than zero (specified: {o.rpc_timeout:g}s)")
    if not o.tls:
        for flag, value in (
            ("-tls-ca-cert", o.tls_ca_cert),
            ("-tls-client-cert", o.tls_client_cert),
            ("-tls-server-name", o.tls_server_name),
        ):
            if value:
                raise ArgumentError(f"specified {flag} without specifying -tls")
    if bool(o.tls_client_cert) != bool(o.tls_client_key):
        raise ArgumentError("specify both -tls-client-cert and -tls-client-key")


def _read(path: str, flag: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ArgumentError(f"failed to initialize tls credentials: {flag} {path}: {exc.strerror}") from None


def probe(options: ProbeOptions) -> int:
    """Connect, ask, and return grpc_health_probe's exit code (messages go to stderr)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    channel_options: list[tuple[str, str | int]] = [("grpc.primary_user_agent", options.user_agent)]
    if options.tls:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=_read(options.tls_ca_cert, "-tls-ca-cert") if options.tls_ca_cert else None,
            private_key=_read(options.tls_client_key, "-tls-client-key") if options.tls_client_key else None,
            certificate_chain=(
                _read(options.tls_client_cert, "-tls-client-cert") if options.tls_client_cert else None
            ),
        )
        if options.tls_server_name:
            channel_options.append(("grpc.ssl_target_name_override", options.tls_server_name))
        channel = grpc.secure_channel(options.addr, credentials, options=channel_options)
    else:
        channel = grpc.insecure_channel(options.addr, options=channel_options)
    with channel:
        started = time.monotonic()
        try:
            grpc.channel_ready_future(channel).result(timeout=options.connect_timeout)
        except grpc.FutureTimeoutError:
            _say(f"timeout: failed to connect service {options.addr!r} within {options.connect_timeout:g}s")
            return EXIT_CONNECTION_FAILURE
        if options.verbose:
            _say(f"connection established (took {time.monotonic() - started:.3f}s)")
        stub = health_pb2_grpc.HealthStub(channel)
        started = time.monotonic()
        try:
            reply = stub.Check(
                health_pb2.HealthCheckRequest(service=options.service),
                timeout=options.rpc_timeout,
                metadata=options.rpc_headers or None,
                compression=grpc.Compression.Gzip if options.gzip else None,
            )
        except grpc.RpcError as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else None
            details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
            if code is grpc.StatusCode.UNIMPLEMENTED:
                _say(
                    f"error: this server does not implement the grpc health protocol "
                    f"(grpc.health.v1.Health): {details}"
                )
            elif code is grpc.StatusCode.DEADLINE_EXCEEDED:
                _say(f"timeout: health rpc did not complete within {options.rpc_timeout:g}s")
            else:
                _say(f"error: health rpc failed: {code.name if code else 'UNKNOWN'}: {details}")
            return EXIT_RPC_FAILURE
        if options.verbose:
            _say(f"time elapsed: connect+rpc {time.monotonic() - started:.3f}s")
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            _say(f"service unhealthy (responded with {status})")
            return EXIT_UNHEALTHY
        _say(f"status: {status}")
        return EXIT_SERVING


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the probe; returns grpc_health_probe's exit code."""
    try:
        options = parse_args(sys.argv[1:] if argv is None else argv)
        return probe(options)
    except HelpRequested:
        print(USAGE, end="")
        return EXIT_SERVING
    except ArgumentError as exc:
        _say(f"error: {exc}")
        return EXIT_INVALID_ARGUMENTS
