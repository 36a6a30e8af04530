"""An embedded PostgreSQL for newcomers: ``serve`` with no DATABASE_URL uses this.

Backed by the ``pgserver`` package (the ``embedded`` extra). The data lives in
a local folder and survives restarts; nothing here is meant for production.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

log = logging.getLogger(__name__)
DATABASE_NAME = "inventory"


class EmbeddedPostgres:
    """Starts (or reuses) a PostgreSQL server whose data lives in ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start the server, create the ``inventory`` database if needed, return its DSN."""
        try:
            import pgserver
        except ImportError as exc:
            raise RuntimeError(
                "no DATABASE_URL is set and the embedded PostgreSQL is not installed; "
                "install the 'embedded' extra (pip install 'inventory-server[embedded]') or set DATABASE_URL"
            ) from exc
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(  # type: ignore[attr-defined]
            str(self.data_dir), cleanup_mode="stop"
        )
        admin = self._server.get_uri()
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
        params = conninfo_to_dict(admin)
        params["dbname"] = DATABASE_NAME
        return make_conninfo("", **params)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
