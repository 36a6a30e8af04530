"""Shared fixtures: a PostgreSQL server to test against, and throwaway databases on it.

The server is ``TEST_DATABASE_URL`` when set, else the local one at
postgresql://postgres@127.0.0.1:5432, else an embedded PostgreSQL (pgserver)
started for the session. Every database a test uses is created for it and
dropped afterwards; nothing depends on leftovers.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

LOCAL_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parents[1]


def _reachable(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


def with_dbname(dsn: str, dbname: str) -> str:
    """The same server DSN pointing at another database."""
    params = conninfo_to_dict(dsn)
    params["dbname"] = dbname
    return make_conninfo("", **params)


@pytest.fixture(scope="session")
def admin_dsn() -> Iterator[str]:
    """A DSN with the right to create and drop databases."""
    explicit = os.environ.get("TEST_DATABASE_URL")
    if explicit:
        yield explicit
        return
    if _reachable(LOCAL_DSN):
        yield LOCAL_DSN
        return
    import pgserver

    data_dir = tempfile.mkdtemp(prefix="inventory-test-pg-")
    server = pgserver.get_server(data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
    try:
        yield with_dbname(server.get_uri(), "postgres")
    finally:
        server.cleanup()


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def database_factory(admin_dsn: str) -> Iterator[Callable[..., str]]:
    """Call it to create a fresh database (optionally from a template); returns its DSN."""
    created: list[str] = []

    def create(template: str | None = None) -> str:
        name = f"inv_test_{uuid.uuid4().hex[:12]}"
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(query)
        created.append(name)
        return with_dbname(admin_dsn, name)

    yield create
    for name in created:  # whatever a test did not drop itself (IF EXISTS: dropped ones are skipped)
        _drop(admin_dsn, name)


def _dropped_after_the_test(admin_dsn: str, dsn: str) -> Iterator[str]:
    """Yield ``dsn`` and drop its database as soon as the test is over.

    Dropping per test keeps the session's teardown short: hundreds of drops left
    to the end would all run inside the last test's timeout.
    """
    yield dsn
    _drop(admin_dsn, str(conninfo_to_dict(dsn)["dbname"]))


@pytest.fixture
def empty_dsn(admin_dsn: str, database_factory: Callable[..., str]) -> Iterator[str]:
    """A fresh, empty database for one test."""
    yield from _dropped_after_the_test(admin_dsn, database_factory())


@pytest.fixture(scope="session")
def migrated_template(database_factory: Callable[..., str]) -> str:
    """The name of a database with every migration applied, used as a template."""
    from inventory_server.migrate import migrate_database

    dsn = database_factory()
    migrate_database(dsn)
    return str(conninfo_to_dict(dsn)["dbname"])


@pytest.fixture
def migrated_dsn(
    admin_dsn: str, database_factory: Callable[..., str], migrated_template: str
) -> Iterator[str]:
    """A fresh database with the full schema, for one test."""
    yield from _dropped_after_the_test(admin_dsn, database_factory(template=migrated_template))
