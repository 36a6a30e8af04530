"""``inventory-server``: the service's command line.

    inventory-server serve [--port 50051] [--database-url-file PATH] [...]
    inventory-server probe -addr=127.0.0.1:50051 [-service NAME] [-tls ...]

Every ``serve`` flag has an environment variable (see ``--help``); flags win.
``probe`` is a gRPC health check with grpc_health_probe's flags and exit codes
(``inventory_server.probe``); it imports only what it needs, so a container
HEALTHCHECK that runs it every few seconds stays cheap.

Exit codes of ``serve``: 0 stopped by SIGTERM/SIGINT, 1 unexpected failure,
2 configuration error (incl. TLS files), 3 cannot listen on the address
(e.g. the port is busy).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from inventory_server import __version__

# Everything else is imported where it is used: `probe` must not pay for argparse, asyncio,
# psycopg or the service at every health check.
if TYPE_CHECKING:
    import argparse

    from opentelemetry.sdk.trace import TracerProvider

    from inventory_server.config import Settings

PROG = "inventory-server"
EXIT_CONFIG = 2
EXIT_CANNOT_LISTEN = 3

SERVE_EXAMPLES = """examples:
  DATABASE_URL_FILE=/run/secrets/database-url inventory-server serve
  inventory-server serve --port 50051 --pool-max-size 20 --log-level DEBUG
  inventory-server serve                      # no DATABASE_URL: an embedded PostgreSQL for development

exit codes: 0 stopped by SIGTERM/SIGINT, 1 unexpected failure, 2 configuration error,
3 cannot listen on the address (e.g. the port is busy)
"""
PROBE_SUMMARY = "check gRPC health like grpc_health_probe (exit 0 serving, 1 bad flags, 2 no connection, "
PROBE_SUMMARY += "3 RPC failed, 4 not serving)"


def build_parser() -> argparse.ArgumentParser:
    import argparse
    import textwrap

    from inventory_server.config import add_arguments

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="gRPC data-access service for inventory: products, warehouses, stock levels, users "
        "and the stock ledger.",
        epilog="examples:\n  inventory-server serve --help\n  inventory-server probe -addr=127.0.0.1:50051",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the gRPC server",
        description=textwrap.fill(
            "Run the gRPC server until SIGTERM or SIGINT (then: health NOT_SERVING, a grace "
            "period for in-flight calls, exit 0). Every flag has an environment variable; a flag wins. "
            "Secrets (DATABASE_URL, INVENTORY_CACHE_LISTEN_URL) are best read from files: "
            "DATABASE_URL_FILE, INVENTORY_CACHE_LISTEN_URL_FILE.",
            78,
        ),
        epilog=SERVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(serve)
    # Listed for --help only: main() hands `probe` to inventory_server.probe before this parser runs.
    commands.add_parser(
        "probe",
        help=PROBE_SUMMARY,
        description="See `inventory-server probe -help`.",
        add_help=False,
    )
    return parser


async def _serve(
    settings: Settings, dsn: str, tracer_provider: TracerProvider | None, worker: int | None = None
) -> None:
    import asyncio
    import signal

    from inventory_server.app import Application

    app = Application(settings, dsn, tracer_provider=tracer_provider, worker=worker)
    await app.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    await app.stop()


def serve(settings: Settings, tracer_provider: TracerProvider | None = None) -> int:
    import asyncio
    import logging

    from inventory_server.config import describe
    from inventory_server.listen import ensure_free

    # Before the embedded database starts or anything connects: a busy port fails at once.
    ensure_free(settings.listen_host(), settings.port)
    if settings.workers > 1:  # the workers share these; the supervisor checks them once
        if settings.health_port:
            ensure_free(settings.listen_host(), settings.health_port)
        if settings.metrics_port:
            ensure_free(settings.listen_host(), settings.metrics_port)
    embedded = None
    dsn = settings.database_url
    if not dsn:
        from inventory_server.embedded import EmbeddedPostgres
        from inventory_server.migrate import migrate_database

        embedded = EmbeddedPostgres(settings.data_dir)
        dsn = embedded.start()
        notice = (
            f"No DATABASE_URL given: using an embedded PostgreSQL with its data in {embedded.data_dir}\n"
            "To use a real database instead, set DATABASE_URL=postgresql://user@host:5432/dbname "
            "(and run `inventory-migrate migrate` against it)."
        )
        if settings.log_format == "json":  # every line a JSON object, stdout included
            logging.getLogger("inventory_server").warning("%s", notice.replace("\n", " "))
        else:
            print(notice, flush=True)
        applied = migrate_database(dsn, settings.migrations_dir)
        logging.getLogger("inventory_server").info(
            "embedded database ready (%d migration(s) applied)", applied
        )
    logging.getLogger("inventory_server").info(
        "starting inventory-server %s: %s", __version__, describe(settings)
    )
    try:
        if settings.workers > 1:
            from inventory_server.workers import run_workers

            return run_workers(settings, dsn)
        asyncio.run(_serve(settings, dsn, tracer_provider))
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["probe"]:
        from inventory_server.probe import main as probe

        return probe(arguments[1:])
    return _serve_command(arguments)


def _serve_command(arguments: list[str]) -> int:
    from inventory_server.auth.watched import FileLoadError
    from inventory_server.config import ConfigError, command_line_secrets, load
    from inventory_server.listen import ListenError
    from inventory_server.observability.logs import configure_logging
    from inventory_server.observability.tracing import TracingConfigError, tracer_provider_from_environment
    from inventory_server.secret_files import command_line_password_warning
    from inventory_server.tls import TLSConfigError

    args = build_parser().parse_args(arguments)
    for flag, value in command_line_secrets(args):
        warning = command_line_password_warning(
            flag, value, alternatives=f"the environment or {flag}-file (a mounted secret)"
        )
        if warning:
            print(f"{PROG}: {warning}", file=sys.stderr)
    try:
        settings = load(args)
    except ConfigError as exc:
        print(f"{PROG}: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level, settings.log_format)
    try:
        tracer_provider = tracer_provider_from_environment()
    except TracingConfigError as exc:
        print(f"{PROG}: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return serve(settings, tracer_provider)
    except TLSConfigError as exc:
        print(f"{PROG}: TLS configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except FileLoadError as exc:
        print(f"{PROG}: authorization configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ListenError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN


if __name__ == "__main__":
    raise SystemExit(main())
