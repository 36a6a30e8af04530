"""A throwaway primary with a streaming standby, from the machine's PostgreSQL binaries.

The standby is a ``pg_basebackup -R`` copy of the primary (which ``initdb`` made
with ``wal_level = replica`` and trust ``replication`` entries for 127.0.0.1 in
pg_hba.conf, PostgreSQL 15's defaults), on its own port, hot standby on.

    with primary_and_standby() as (primary, standby):
        standby.execute("SELECT pg_wal_replay_pause()")
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

from tests.pg_cluster import PgCluster, free_port, throwaway_cluster


def query(cluster: PgCluster, statement: str, dbname: str = "postgres") -> Any:
    """The first column of the first row of ``statement`` (autocommit)."""
    with psycopg.connect(cluster.dsn(dbname), autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(statement).fetchone()
    return None if row is None else row[0]


def wait_replayed(primary: PgCluster, standby: PgCluster, timeout: float = 30.0) -> None:
    """Until the standby has replayed everything the primary has written now."""
    target = query(primary, "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + timeout
    while not query(standby, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
        if time.monotonic() > deadline:
            raise AssertionError(f"standby did not replay {target} in {timeout}s:\n{standby.log()}")
        time.sleep(0.05)


def make_standby(primary: PgCluster) -> PgCluster:
    """A started standby of ``primary`` (its own folder and port); destroy() it afterwards."""
    root = Path(tempfile.mkdtemp(prefix="inventory-pg-standby-"))
    standby = PgCluster(root, free_port())
    standby.socket_dir.mkdir(exist_ok=True)
    if standby.user is not None:
        for path in (standby.root, standby.socket_dir):
            os.chown(path, standby.user.pw_uid, standby.user.pw_gid)
    standby._checked(
        "pg_basebackup",
        "-D",
        str(standby.data_dir),
        "-R",
        "-X",
        "stream",
        "--no-sync",
        "-d",
        f"host=127.0.0.1 port={primary.port} user=postgres",
    )
    # The copy carries the primary's postgresql.auto.conf: later lines win.
    with (standby.data_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write(
            f"port = {standby.port}\nunix_socket_directories = '{standby.socket_dir}'\nhot_standby = on\n"
        )
    standby.start()
    return standby


@contextlib.contextmanager
def primary_and_standby() -> Iterator[tuple[PgCluster, PgCluster]]:
    with throwaway_cluster() as primary:
        standby = make_standby(primary)
        try:
            yield primary, standby
        finally:
            standby.destroy()
