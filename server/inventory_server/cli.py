"""``inventory-server``: the service's command line.

    inventory-server serve [--port 50051] [--database-url ...] [...]

Every flag has an environment variable (see ``--help``); flags win.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from inventory_server import __version__
from inventory_server.config import ConfigError, Settings, add_arguments, describe, load
from inventory_server.tls import TLSConfigError

log = logging.getLogger("inventory_server")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inventory-server", description="gRPC data-access service for inventory"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gRPC server")
    add_arguments(serve)
    return parser


async def _serve(settings: Settings, dsn: str) -> None:
    from inventory_server.app import Application

    app = Application(settings, dsn)
    await app.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    await app.stop()


def serve(settings: Settings) -> int:
    embedded = None
    dsn = settings.database_url
    if not dsn:
        from inventory_server.embedded import EmbeddedPostgres
        from inventory_server.migrate import migrate_database

        embedded = EmbeddedPostgres(settings.data_dir)
        dsn = embedded.start()
        print(
            f"No DATABASE_URL given: using an embedded PostgreSQL with its data in {embedded.data_dir}\n"
            "To use a real database instead, set DATABASE_URL=postgresql://user@host:5432/dbname "
            "(and run `inventory-migrate migrate` against it).",
            flush=True,
        )
        applied = migrate_database(dsn, settings.migrations_dir)
        log.info("embedded database ready (%d migration(s) applied)", applied)
    log.info("starting inventory-server %s: %s", __version__, describe(settings))
    try:
        asyncio.run(_serve(settings, dsn))
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load(args)
    except ConfigError as exc:
        print(f"inventory-server: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.command == "serve":
        try:
            return serve(settings)
        except TLSConfigError as exc:
            print(f"inventory-server: TLS configuration error: {exc}", file=sys.stderr)
            return 2
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
