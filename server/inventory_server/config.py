"""Service settings: one immutable object, read once at start-up from flags and the environment."""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from inventory_server.api.page_tokens import parse_keys
from inventory_server.dsn import mask_dsn
from inventory_server.secret_files import FILE_SUFFIX, SecretFileError, pick_secret, secret_from_environment
from inventory_server.settings_help import meaning


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the server can be configured with. Defaults suit a small production replica."""

    database_url: str | None = field(default=None, repr=False)  # may carry a password
    # read replicas (db.replicas, docs/scaling.md): streaming standbys' DSNs, comma-separated; reads
    # that tolerate bounded staleness go to a healthy one whose lag is within replica_max_lag
    # ("5s", "500ms" or bytes of WAL: "16MB", "1048576B"), probed every replica_probe_interval
    database_read_url: str | None = field(default=None, repr=False)  # may carry passwords
    replica_max_lag: str = "5s"
    replica_probe_interval: float = 1.0
    # unset: every interface ([::]) with TLS and a policy, else loopback only (listen_host)
    host: str | None = None
    port: int = 50051
    # listen beyond loopback without TLS or without a policy (logs a warning at start)
    allow_insecure_listen: bool = False
    # TLS (inventory_server.tls): cert + key = TLS; a client CA as well = mutual TLS
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_ca_file: Path | None = None
    # authorization (docs/security.md): the policy, and bearer tokens verified against a JWKS
    auth_policy_file: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # how long a user's role is cached for calls with that user's token (= delay of a role change)
    auth_user_cache_seconds: float = 5.0
    # argon2 hashes/verifications at once per replica (each holds 64 MiB): 3 fits 256 MiB
    password_hash_concurrency: int = 3
    # failed AuthenticateUser attempts per account / per calling principal within the window,
    # shared by all replicas (PostgreSQL); reaching one blocks that key for one window
    login_max_failures: int = 5
    login_max_failures_per_principal: int = 100
    login_failure_window_seconds: float = 300.0
    # plaintext port serving only grpc.health.v1, for kubelet probes when TLS is on; 0 = none
    health_port: int = 0
    # ImportProducts: the longest wait for the next message, imports running at once per replica,
    # and what one import may hold until its stream ends (text + 256 bytes per row)
    import_idle_timeout: float = 10.0
    import_max_concurrent: int = 2
    import_max_bytes: int = 64 * 1024 * 1024
    # request limits: largest request message grpc accepts (refused before parsing) and
    # concurrent calls (HTTP/2 streams) per client connection
    max_receive_message_bytes: int = 4 * 1024 * 1024
    max_concurrent_streams: int = 100
    # connection pool (psycopg_pool.AsyncConnectionPool)
    pool_min_size: int = 2
    pool_max_size: int = 10
    pool_timeout: float = 5.0  # seconds to wait for a connection before UNAVAILABLE
    pool_max_lifetime: float = 3600.0
    pool_max_idle: float = 600.0
    pool_reconnect_timeout: float = 300.0
    pool_check_on_checkout: bool = False
    statement_timeout_ms: int = (
        30_000  # upper bound for any statement; the caller's deadline may cut it shorter
    )
    # a transaction left idle this long is ended by PostgreSQL (its connection is closed and the
    # pool replaces it): nothing may hold a connection while waiting on a client; 0 = never
    idle_in_transaction_timeout_ms: int = 10_000
    application_name: str = "inventory-server"
    # PgBouncer transaction mode: no server-side prepared statements, no session settings
    pgbouncer: bool = False
    prepare_threshold: int = 5
    # database health monitor
    health_check_interval: float = 5.0
    health_check_timeout: float = 2.0
    health_failure_threshold: int = 3
    # transactions
    max_transaction_attempts: int = 5
    # request_id keys are remembered this long, then purged every maintenance interval
    idempotency_retention_hours: float = 168.0
    maintenance_interval: float = 3600.0
    # product read cache
    cache_enabled: bool = True
    cache_max_entries: int = 10_000
    cache_ttl_seconds: float = 30.0
    # the cache's LISTEN connection: heartbeat cadence (bounds staleness across replicas) and,
    # behind a transaction-mode PgBouncer, a direct DSN for it (LISTEN needs a real session)
    cache_heartbeat_interval: float = 2.0
    cache_listen_url: str | None = field(default=None, repr=False)  # may carry a password
    # change stream (WatchStockChanges): heartbeat cadence, per-replica stream cap, per-stream buffer
    # (changes) and how long a full buffer may wait for the consumer, retention of stream positions,
    # and a direct DSN for its LISTEN connection (needed behind a transaction-mode PgBouncer)
    watch_heartbeat_interval: float = 10.0
    watch_max_streams: int = 100
    watch_buffer_size: int = 256
    watch_slow_consumer_seconds: float = 5.0
    watch_retention_hours: float = 168.0
    watch_listen_url: str | None = field(default=None, repr=False)  # may carry a password
    # page tokens: HMAC keys, newest first, comma-separated (api.page_tokens); unset = the public
    # development key, with a warning at start-up
    page_token_keys: str | None = field(default=None, repr=False)  # a secret
    # expired reservations are released within this many seconds (plus the sweep's own time)
    reservation_sweep_interval: float = 2.0
    # lifecycle
    grace_period: float = 10.0
    data_dir: Path = Path(".inventory-data")
    migrations_dir: Path | None = None
    log_level: str = "INFO"
    # observability (inventory_server.observability): Prometheus exposition over HTTP on this
    # port of ``host`` (0 = off); "text" or "json" log lines (one JSON object per line)
    metrics_port: int = 0
    log_format: str = "text"
    # server processes sharing the port (inventory_server.workers); 1 = this process serves
    workers: int = 1

    @property
    def secured(self) -> bool:
        """TLS and a policy: the configuration that may listen beyond loopback without an opt-in."""
        return self.tls_cert_file is not None and self.auth_policy_file is not None

    def listen_host(self) -> str:
        """Where to listen: INVENTORY_HOST, else every interface when secured, else loopback only."""
        if self.host:
            return self.host
        return ANY_HOST if self.secured else LOOPBACK_HOST

    def connection_kwargs(self) -> dict[str, object]:
        """Keyword arguments for every pooled connection."""
        kwargs: dict[str, object] = {"application_name": self.application_name, "autocommit": False}
        kwargs["prepare_threshold"] = None if self.pgbouncer else self.prepare_threshold
        options = []
        if not self.pgbouncer and self.statement_timeout_ms > 0:
            options.append(f"-c statement_timeout={int(self.statement_timeout_ms)}")
        if not self.pgbouncer and self.idle_in_transaction_timeout_ms > 0:
            options.append(
                f"-c idle_in_transaction_session_timeout={int(self.idle_in_transaction_timeout_ms)}"
            )
        if options:
            kwargs["options"] = " ".join(options)
        return kwargs


ANY_HOST = "[::]"
# 127.0.0.1 rather than localhost: a container without IPv6 cannot bind ::1.
LOOPBACK_HOST = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """Does listening on ``host`` stay on this machine? (names other than localhost: assume not)."""
    name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


# setting name -> environment variable
ENVIRONMENT: Mapping[str, str] = {
    "database_url": "DATABASE_URL",
    "database_read_url": "DATABASE_READ_URL",
    "replica_max_lag": "INVENTORY_REPLICA_MAX_LAG",
    "replica_probe_interval": "INVENTORY_REPLICA_PROBE_INTERVAL",
    "host": "INVENTORY_HOST",
    "port": "INVENTORY_PORT",
    "allow_insecure_listen": "INVENTORY_ALLOW_INSECURE_LISTEN",
    "auth_policy_file": "INVENTORY_AUTH_POLICY_FILE",
    "jwt_jwks_file": "INVENTORY_JWT_JWKS_FILE",
    "jwt_issuer": "INVENTORY_JWT_ISSUER",
    "jwt_audience": "INVENTORY_JWT_AUDIENCE",
    "auth_user_cache_seconds": "INVENTORY_AUTH_USER_CACHE_SECONDS",
    "password_hash_concurrency": "INVENTORY_PASSWORD_HASH_CONCURRENCY",
    "login_max_failures": "INVENTORY_LOGIN_MAX_FAILURES",
    "login_max_failures_per_principal": "INVENTORY_LOGIN_MAX_FAILURES_PER_PRINCIPAL",
    "login_failure_window_seconds": "INVENTORY_LOGIN_FAILURE_WINDOW_SECONDS",
    "tls_cert_file": "INVENTORY_TLS_CERT_FILE",
    "tls_key_file": "INVENTORY_TLS_KEY_FILE",
    "tls_client_ca_file": "INVENTORY_TLS_CLIENT_CA_FILE",
    "health_port": "INVENTORY_HEALTH_PORT",
    "import_idle_timeout": "INVENTORY_IMPORT_IDLE_TIMEOUT",
    "import_max_concurrent": "INVENTORY_IMPORT_MAX_CONCURRENT",
    "import_max_bytes": "INVENTORY_IMPORT_MAX_BYTES",
    "max_receive_message_bytes": "INVENTORY_MAX_RECEIVE_MESSAGE_BYTES",
    "max_concurrent_streams": "INVENTORY_MAX_CONCURRENT_STREAMS",
    "pool_min_size": "INVENTORY_POOL_MIN_SIZE",
    "pool_max_size": "INVENTORY_POOL_MAX_SIZE",
    "pool_timeout": "INVENTORY_POOL_TIMEOUT",
    "pool_max_lifetime": "INVENTORY_POOL_MAX_LIFETIME",
    "pool_max_idle": "INVENTORY_POOL_MAX_IDLE",
    "pool_reconnect_timeout": "INVENTORY_POOL_RECONNECT_TIMEOUT",
    "pool_check_on_checkout": "INVENTORY_POOL_CHECK_ON_CHECKOUT",
    "statement_timeout_ms": "INVENTORY_STATEMENT_TIMEOUT_MS",
    "idle_in_transaction_timeout_ms": "INVENTORY_IDLE_IN_TRANSACTION_TIMEOUT_MS",
    "application_name": "INVENTORY_APPLICATION_NAME",
    "pgbouncer": "INVENTORY_PGBOUNCER",
    "prepare_threshold": "INVENTORY_PREPARE_THRESHOLD",
    "health_check_interval": "INVENTORY_HEALTH_CHECK_INTERVAL",
    "health_check_timeout": "INVENTORY_HEALTH_CHECK_TIMEOUT",
    "health_failure_threshold": "INVENTORY_HEALTH_FAILURE_THRESHOLD",
    "max_transaction_attempts": "INVENTORY_MAX_TRANSACTION_ATTEMPTS",
    "idempotency_retention_hours": "INVENTORY_IDEMPOTENCY_RETENTION_HOURS",
    "maintenance_interval": "INVENTORY_MAINTENANCE_INTERVAL",
    "cache_enabled": "INVENTORY_CACHE_ENABLED",
    "cache_max_entries": "INVENTORY_CACHE_MAX_ENTRIES",
    "cache_ttl_seconds": "INVENTORY_CACHE_TTL_SECONDS",
    "cache_heartbeat_interval": "INVENTORY_CACHE_HEARTBEAT_INTERVAL",
    "cache_listen_url": "INVENTORY_CACHE_LISTEN_URL",
    "watch_heartbeat_interval": "INVENTORY_WATCH_HEARTBEAT_INTERVAL",
    "watch_max_streams": "INVENTORY_WATCH_MAX_STREAMS",
    "watch_buffer_size": "INVENTORY_WATCH_BUFFER_SIZE",
    "watch_slow_consumer_seconds": "INVENTORY_WATCH_SLOW_CONSUMER_SECONDS",
    "watch_retention_hours": "INVENTORY_WATCH_RETENTION_HOURS",
    "watch_listen_url": "INVENTORY_WATCH_LISTEN_URL",
    "page_token_keys": "INVENTORY_PAGE_TOKEN_KEYS",
    "reservation_sweep_interval": "INVENTORY_RESERVATION_SWEEP_INTERVAL",
    "grace_period": "INVENTORY_GRACE_PERIOD",
    "data_dir": "INVENTORY_DATA_DIR",
    "migrations_dir": "INVENTORY_MIGRATIONS_DIR",
    "log_level": "INVENTORY_LOG_LEVEL",
    "metrics_port": "INVENTORY_METRICS_PORT",
    "log_format": "INVENTORY_LOG_FORMAT",
    "workers": "INVENTORY_WORKERS",
}

# Settings that hold a secret: each also reads from a file named by its variable + "_FILE"
# (DATABASE_URL_FILE) or its flag + "-file" (--database-url-file); see inventory_server.secret_files.
SECRET_SETTINGS: tuple[str, ...] = (
    "database_url",
    "database_read_url",
    "cache_listen_url",
    "watch_listen_url",
    "page_token_keys",
)

LOG_FORMATS: tuple[str, ...] = ("text", "json")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting has a value that cannot be used."""


def _convert(name: str, raw: str, kind: type) -> object:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Path:
            return Path(raw)
    except ValueError:
        raise ConfigError(f"{ENVIRONMENT.get(name, name)}: cannot use {raw!r} as {kind.__name__}") from None
    return raw


_TYPES: dict[str, type] = {
    "bool": bool,
    "int": int,
    "float": float,
    "Path": Path,
    "Path | None": Path,
    "str": str,
    "str | None": str,
}


def flag_of(name: str) -> str:
    """The command-line flag of a setting: ``database_url`` -> ``--database-url``."""
    return "--" + name.replace("_", "-")


def _shown_default(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add a --flag for every setting (flags win over the environment), with its meaning and default.

    The argparse default stays None so that "not given" falls through to the environment.
    """
    for f in fields(Settings):
        kind = _TYPES[str(f.type)]
        env = ENVIRONMENT[f.name]
        default = _shown_default(f.default)
        text = f"{meaning(f.name)} (env {env}; default {default})".replace("%", "%%")
        if f.name in SECRET_SETTINGS:
            text += f"; shows in the process list, prefer {env}{FILE_SUFFIX}"
        parser.add_argument(
            flag_of(f.name), dest=f.name, default=None, metavar=kind.__name__.upper(), help=text
        )
        if f.name in SECRET_SETTINGS:
            parser.add_argument(
                flag_of(f.name) + "-file",
                dest=f.name + "_file",
                default=None,
                metavar="PATH",
                help=f"read {flag_of(f.name)} from this file, e.g. a mounted Kubernetes Secret "
                f"(env {env}{FILE_SUFFIX}; default unset; setting both is an error)",
            )


def command_line_secrets(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(flag, value) of every secret setting given on the command line (to warn about them)."""
    return [
        (flag_of(name), value)
        for name in SECRET_SETTINGS
        if isinstance(value := getattr(args, name, None), str) and value
    ]


def _secret(name: str, args: argparse.Namespace | None, environ: Mapping[str, str]) -> str | None:
    """A secret setting: its flag or flag file, else its variable or variable file (see secret_files)."""
    try:
        given = pick_secret(
            getattr(args, name, None),
            getattr(args, name + "_file", None),
            flag_of(name),
            flag_of(name) + "-file",
        )
        return given or secret_from_environment(ENVIRONMENT[name], environ)
    except SecretFileError as exc:
        raise ConfigError(str(exc)) from None


def load(args: argparse.Namespace | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from flags, then the environment, then defaults; validate them."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        kind = _TYPES[str(f.type)]
        raw: object
        if f.name in SECRET_SETTINGS:
            raw = _secret(f.name, args, environ)
        else:
            raw = getattr(args, f.name, None) if args is not None else None
            if raw is None:
                raw = environ.get(ENVIRONMENT[f.name])
        if (raw is not None and raw != "") or (raw == "" and kind is bool):
            values[f.name] = _convert(f.name, str(raw), kind)
    settings = Settings(**values)  # type: ignore[arg-type]
    validate(settings)
    return settings


@dataclass(frozen=True)
class MaxLag:
    """How far behind a replica may be and still serve reads: seconds, or bytes of WAL."""

    seconds: float | None = None
    bytes: int | None = None


_BYTE_UNITS = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}


def parse_max_lag(text: str) -> MaxLag:
    """``"5s"``, ``"500ms"`` (time) or ``"16MB"``, ``"1048576B"`` (WAL bytes); ValueError otherwise."""
    raw = text.strip().lower()
    number = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = raw[len(number) :]
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration (5s, 500ms) or a size (16MB, 1048576B)") from None
    if value < 0:
        raise ValueError("must not be negative")
    if unit in ("s", ""):
        return MaxLag(seconds=value)
    if unit == "ms":
        return MaxLag(seconds=value / 1000)
    if unit in _BYTE_UNITS:
        return MaxLag(bytes=int(value * _BYTE_UNITS[unit]))
    raise ValueError(f"unknown unit {unit!r}: use s, ms, B, kB, MB or GB")


def read_urls(s: Settings) -> list[str]:
    """The replicas' DSNs from DATABASE_READ_URL, comma-separated.

    Split only before ``postgresql://`` / ``postgres://``, so a multi-host URI
    (``postgresql://h1,h2/db``) stays one DSN; several DSNs must be URIs.
    """
    parts = re.split(r",\s*(?=postgres(?:ql)?://)", s.database_read_url or "")
    return [part.strip() for part in parts if part.strip()]


def validate(s: Settings) -> None:
    """Refuse settings that cannot work, naming the variable."""
    problems: list[str] = []
    if not 0 < s.port < 65536:
        problems.append("INVENTORY_PORT must be 1-65535")
    if not 1 <= s.workers <= 64:
        problems.append("INVENTORY_WORKERS must be 1-64")
    if s.pool_min_size < 0 or s.pool_max_size < 1 or s.pool_min_size > s.pool_max_size:
        problems.append("pool sizes need 0 <= INVENTORY_POOL_MIN_SIZE <= INVENTORY_POOL_MAX_SIZE, max >= 1")
    for name in (
        "pool_timeout",
        "health_check_interval",
        "health_check_timeout",
        "grace_period",
        "idempotency_retention_hours",
        "maintenance_interval",
        "watch_heartbeat_interval",
        "watch_slow_consumer_seconds",
        "watch_retention_hours",
        "reservation_sweep_interval",
    ):
        if getattr(s, name) <= 0:
            problems.append(f"{ENVIRONMENT[name]} must be positive")
    if (s.tls_cert_file is None) != (s.tls_key_file is None):
        problems.append("INVENTORY_TLS_CERT_FILE and INVENTORY_TLS_KEY_FILE must be set together")
    if s.tls_client_ca_file is not None and s.tls_cert_file is None:
        problems.append(
            "INVENTORY_TLS_CLIENT_CA_FILE needs INVENTORY_TLS_CERT_FILE and INVENTORY_TLS_KEY_FILE"
        )
    jwt = (s.jwt_jwks_file, s.jwt_issuer, s.jwt_audience)
    if any(v is not None for v in jwt) and not all(v for v in jwt):
        problems.append(
            "INVENTORY_JWT_JWKS_FILE, INVENTORY_JWT_ISSUER and INVENTORY_JWT_AUDIENCE must be set together"
        )
    if s.auth_user_cache_seconds < 0:
        problems.append("INVENTORY_AUTH_USER_CACHE_SECONDS must be >= 0")
    if s.password_hash_concurrency < 1:
        problems.append("INVENTORY_PASSWORD_HASH_CONCURRENCY must be >= 1")
    if s.login_max_failures < 1 or s.login_max_failures_per_principal < 1:
        problems.append(
            "INVENTORY_LOGIN_MAX_FAILURES and INVENTORY_LOGIN_MAX_FAILURES_PER_PRINCIPAL must be >= 1"
        )
    if s.login_failure_window_seconds <= 0:
        problems.append("INVENTORY_LOGIN_FAILURE_WINDOW_SECONDS must be > 0")
    host = s.listen_host()
    if not s.secured and not is_loopback(host) and not s.allow_insecure_listen:
        missing = " and ".join(
            name
            for name, absent in (
                ("TLS (INVENTORY_TLS_CERT_FILE)", s.tls_cert_file is None),
                ("a policy (INVENTORY_AUTH_POLICY_FILE)", s.auth_policy_file is None),
            )
            if absent
        )
        problems.append(
            f"INVENTORY_HOST={host} listens beyond loopback without {missing}: anyone who reaches the "
            "port could use the service; configure them, or set INVENTORY_ALLOW_INSECURE_LISTEN=true "
            "to accept that"
        )
    if not 0 <= s.health_port < 65536 or (s.health_port != 0 and s.health_port == s.port):
        problems.append("INVENTORY_HEALTH_PORT must be 0 (off) or a port other than INVENTORY_PORT")
    if not 0 <= s.metrics_port < 65536 or (s.metrics_port != 0 and s.metrics_port in (s.port, s.health_port)):
        problems.append(
            "INVENTORY_METRICS_PORT must be 0 (off) or a port other than INVENTORY_PORT and "
            "INVENTORY_HEALTH_PORT"
        )
    if s.log_format not in LOG_FORMATS:
        problems.append(f"INVENTORY_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    if s.health_failure_threshold < 1 or s.max_transaction_attempts < 1:
        problems.append(
            "INVENTORY_HEALTH_FAILURE_THRESHOLD and INVENTORY_MAX_TRANSACTION_ATTEMPTS must be >= 1"
        )
    if s.cache_max_entries < 1 or s.cache_ttl_seconds <= 0 or s.cache_heartbeat_interval <= 0:
        problems.append(
            "INVENTORY_CACHE_MAX_ENTRIES must be >= 1, INVENTORY_CACHE_TTL_SECONDS and "
            "INVENTORY_CACHE_HEARTBEAT_INTERVAL positive"
        )
    if s.watch_max_streams < 0 or s.watch_buffer_size < 1:
        problems.append("INVENTORY_WATCH_MAX_STREAMS must be >= 0 and INVENTORY_WATCH_BUFFER_SIZE >= 1")
    if s.database_url:
        try:
            conninfo_to_dict(s.database_url)
        except Exception:
            problems.append("DATABASE_URL is not a valid PostgreSQL connection string")
    for i, read_url in enumerate(read_urls(s), 1):
        try:
            conninfo_to_dict(read_url)
        except Exception:
            problems.append(f"DATABASE_READ_URL: DSN {i} is not a valid PostgreSQL connection string")
    try:
        parse_max_lag(s.replica_max_lag)
    except ValueError as error:
        problems.append(f"INVENTORY_REPLICA_MAX_LAG: {error}")
    if s.replica_probe_interval <= 0:
        problems.append("INVENTORY_REPLICA_PROBE_INTERVAL must be positive")
    if s.cache_listen_url:
        try:
            conninfo_to_dict(s.cache_listen_url)
        except Exception:
            problems.append("INVENTORY_CACHE_LISTEN_URL is not a valid PostgreSQL connection string")
    if s.watch_listen_url:
        try:
            conninfo_to_dict(s.watch_listen_url)
        except Exception:
            problems.append("INVENTORY_WATCH_LISTEN_URL is not a valid PostgreSQL connection string")
    if s.page_token_keys is not None:
        try:
            parse_keys(s.page_token_keys)
        except ValueError as exc:
            problems.append(f"INVENTORY_PAGE_TOKEN_KEYS {exc}")  # never the keys themselves
    if not 1024 <= s.max_receive_message_bytes <= 2**31 - 1:
        problems.append("INVENTORY_MAX_RECEIVE_MESSAGE_BYTES must be 1024-2147483647")
    if s.import_idle_timeout <= 0 or s.import_max_concurrent < 1 or s.import_max_bytes < 1024:
        problems.append(
            "INVENTORY_IMPORT_IDLE_TIMEOUT must be positive, INVENTORY_IMPORT_MAX_CONCURRENT >= 1 and "
            "INVENTORY_IMPORT_MAX_BYTES >= 1024"
        )
    if s.idle_in_transaction_timeout_ms < 0:
        problems.append("INVENTORY_IDLE_IN_TRANSACTION_TIMEOUT_MS must be >= 0 (0 = off)")
    if s.max_concurrent_streams < 1:
        problems.append("INVENTORY_MAX_CONCURRENT_STREAMS must be >= 1")
    if problems:
        raise ConfigError("; ".join(problems))


def describe(s: Settings, keys: Sequence[str] = ("host", "port", "pool_min_size", "pool_max_size")) -> str:
    """A one-line summary for the start-up log (never the password)."""
    parts = [f"{k}={s.listen_host() if k == 'host' else getattr(s, k)}" for k in keys]
    if s.database_url:
        parts.append(f"database={mask_dsn(s.database_url)}")
    return " ".join(parts)
