"""What each setting means, for ``inventory-server serve --help`` (one line each).

Kept apart from ``config`` so that adding a setting there and its meaning here
are two small edits; ``tests/unit/config`` fails when a setting has no meaning.
The README's configuration table says the same at more length.
"""

from __future__ import annotations

from collections.abc import Mapping

MEANINGS: Mapping[str, str] = {
    "database_url": "PostgreSQL DSN; unset = an embedded PostgreSQL for local development",
    "database_read_url": "read replicas (streaming standbys): DSNs, comma-separated; reads that tolerate "
    "bounded staleness go to a healthy one; unset = every read on DATABASE_URL",
    "replica_max_lag": "replicas further behind are skipped: a time (5s, 500ms) or WAL bytes (16MB)",
    "replica_probe_interval": "seconds between probes of each replica's state and lag",
    "host": "address to listen on ([::] = every interface, IPv4 and IPv6); unset = [::] with TLS and a "
    "policy, else 127.0.0.1 (development)",
    "allow_insecure_listen": "allow listening beyond loopback without TLS or without a policy (logs a "
    "warning)",
    "auth_policy_file": "YAML policy: roles of permissions and bindings of principals (deny by default; "
    "reloaded on change)",
    "jwt_jwks_file": "JWKS (JSON) with the public keys that sign bearer tokens (reloaded on change)",
    "jwt_issuer": "the iss every bearer token must carry",
    "jwt_audience": "a value the aud of every bearer token must contain",
    "password_hash_concurrency": "argon2 hashes and verifications running at once per replica (64 MiB "
    "each; the default 3 fits 256 MiB); more wait in a queue that honours the caller's deadline",
    "login_max_failures": "failed logins per account (email) within the window before its logins are "
    "refused with RESOURCE_EXHAUSTED for one window (counted in PostgreSQL, across replicas)",
    "login_max_failures_per_principal": "failed logins per calling principal within the window before its "
    "logins are refused with RESOURCE_EXHAUSTED for one window",
    "login_failure_window_seconds": "window in which failed logins are counted, and how long a key that "
    "reached its limit stays blocked",
    "auth_user_cache_seconds": "seconds a user's role is cached for their token's calls (a role change "
    "applies within this)",
    "port": "gRPC port; a port another process already listens on is an error (exit 3)",
    "tls_cert_file": "PEM server certificate chain; with the key it turns TLS on",
    "tls_key_file": "PEM private key of the server certificate",
    "tls_client_ca_file": "PEM CA bundle: require and verify client certificates (mutual TLS)",
    "health_port": "plaintext port serving only grpc.health.v1, for kubelet probes under TLS; 0 = off",
    "import_idle_timeout": "seconds ImportProducts waits for the next message before ending the stream "
    "DEADLINE_EXCEEDED",
    "import_max_concurrent": "ImportProducts calls running at once per replica; more -> RESOURCE_EXHAUSTED",
    "import_max_bytes": "product text (plus 256 bytes per row) one import may hold until its stream ends; "
    "more -> INVALID_ARGUMENT",
    "max_receive_message_bytes": "largest request message in bytes; larger ones are refused "
    "RESOURCE_EXHAUSTED before they are parsed",
    "max_concurrent_streams": "concurrent calls (HTTP/2 streams) one client connection may have open",
    "pool_min_size": "connections the pool keeps open",
    "pool_max_size": "most connections the pool opens",
    "pool_timeout": "seconds a call waits for a pooled connection before UNAVAILABLE",
    "pool_max_lifetime": "seconds after which a pooled connection is replaced",
    "pool_max_idle": "seconds an idle connection above the minimum is kept",
    "pool_reconnect_timeout": "seconds the pool keeps trying to reconnect before giving up on a slot",
    "pool_check_on_checkout": "check every connection with a round trip when it is taken from the pool",
    "statement_timeout_ms": "upper bound of any statement in milliseconds (the caller's deadline may cut "
    "it shorter); 0 = none",
    "idle_in_transaction_timeout_ms": "milliseconds after which PostgreSQL ends a transaction left idle "
    "(idle_in_transaction_session_timeout of the service connections); 0 = never",
    "application_name": "application_name the connections report to PostgreSQL",
    "pgbouncer": "PgBouncer transaction mode: no server-side prepared statements, no session settings",
    "prepare_threshold": "executions after which psycopg prepares a statement server-side",
    "health_check_interval": "seconds between database health checks",
    "health_check_timeout": "seconds one health check may take",
    "health_failure_threshold": "consecutive failed checks before health turns NOT_SERVING",
    "max_transaction_attempts": "attempts of a transaction on serialization failure, deadlock or lost "
    "connection",
    "idempotency_retention_hours": "hours a request_id is remembered for replays",
    "maintenance_interval": "seconds between purges of expired request_id keys and change stream positions",
    "workers": "server processes sharing the port (SO_REUSEPORT among them only), supervised and "
    "restarted when one dies; 1 = a single process",
    "cache_enabled": "cache product reads (invalidated through LISTEN/NOTIFY)",
    "cache_max_entries": "most products the read cache holds",
    "cache_ttl_seconds": "seconds a cached product is served at most",
    "cache_heartbeat_interval": "seconds between the cache listener's heartbeats (bounds staleness)",
    "cache_listen_url": "direct DSN for the cache's LISTEN session (behind a transaction-mode PgBouncer); "
    "unset = DATABASE_URL",
    "watch_heartbeat_interval": "seconds of silence before a change stream sends a heartbeat (also the "
    "longest delay when a wake-up is lost)",
    "watch_max_streams": "concurrent change streams per replica; more -> RESOURCE_EXHAUSTED",
    "watch_buffer_size": "changes a change stream holds for a consumer that is not reading",
    "watch_slow_consumer_seconds": "seconds a full change stream buffer waits before the stream ends ABORTED",
    "watch_retention_hours": "hours a change stream can resume back; older tokens -> FAILED_PRECONDITION",
    "watch_listen_url": "direct DSN for the change stream's LISTEN session (behind a transaction-mode "
    "PgBouncer); unset = INVENTORY_CACHE_LISTEN_URL, else DATABASE_URL",
    "page_token_keys": "HMAC keys sealing page tokens, comma-separated, newest first, each at least 32 "
    "characters; every replica needs the same list; unset = a public development key (warned about)",
    "reservation_sweep_interval": "seconds between sweeps that release expired reservations (the bound "
    "on how late an expiry is released)",
    "grace_period": "seconds in-flight calls get to finish on SIGTERM",
    "data_dir": "data folder of the embedded PostgreSQL (only without DATABASE_URL)",
    "migrations_dir": "migrations folder for the embedded PostgreSQL; unset = the migrations shipped in "
    "the package",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
    "metrics_port": "HTTP port of the Prometheus metrics (GET /metrics), on the address of --host; 0 = off",
    "log_format": "text (readable) or json (one object per line, for log collectors); the image sets json",
}


def meaning(name: str) -> str:
    """The meaning of a setting; a setting someone added without one still gets its variable named."""
    return MEANINGS.get(name, name.replace("_", " "))
