"""A throwaway PostgreSQL cluster that a test may stop, kill and restart at will.

Never the shared server on port 5432: ``initdb`` into a fresh temporary folder,
``pg_ctl start`` on a free port of 127.0.0.1 with the socket in that folder,
trust authentication for ``postgres``. Stopping is ``fast`` or ``immediate``
(a crash: no shutdown checkpoint, clients see their connections drop), and a
restart comes back on the same port so DSNs stay valid.

The binaries are the machine's PostgreSQL (``/usr/lib/postgresql/<n>/bin``,
or ``pg_config --bindir``) and else the ones the ``pgserver`` package ships.
PostgreSQL refuses to run as root, so as root the cluster runs as the
``postgres`` OS user (created if missing) through ``runuser``.

Import it as ``tests.pg_cluster`` (``tests/`` is a package; pytest puts the
repository root on ``sys.path``).

    with throwaway_cluster() as cluster:
        dsn = cluster.dsn("postgres")
        cluster.stop("immediate")
        cluster.start()
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import psycopg
from psycopg import sql

StopMode = Literal["smart", "fast", "immediate"]
OS_USER = "postgres"


def _bindir_candidates() -> Iterator[Path]:
    yield from sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
            yield Path(out.stdout.strip())
    with contextlib.suppress(ImportError):
        import pgserver

        yield Path(pgserver.__file__).parent / "pginstall" / "bin"


def find_bindir() -> Path:
    """Where initdb, pg_ctl and postgres live."""
    for bindir in _bindir_candidates():
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise RuntimeError("no PostgreSQL binaries found (initdb, pg_ctl): install postgresql or pgserver")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _os_user() -> pwd.struct_passwd | None:
    """The unprivileged user to run PostgreSQL as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", OS_USER], check=True, capture_output=True)
        return pwd.getpwnam(OS_USER)


@dataclass
class PgCluster:
    """One cluster in its own folder; ``start``/``stop`` as often as a test likes."""

    root: Path
    port: int
    bindir: Path = field(default_factory=find_bindir)
    user: pwd.struct_passwd | None = field(default_factory=_os_user)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            # runuser rather than subprocess's user=: that path forks without vfork, which runs
            # the gRPC fork handlers of a test process with live channels (and may crash the child).
            command = ["runuser", "-u", self.user.pw_name, "--", *command]
        env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, env=env, cwd=self.root
        )

    def _checked(self, *args: str, timeout: float = 120.0) -> str:
        result = self._run(*args, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(
                f"{args[0]} failed ({result.returncode}): {result.stdout}{result.stderr}\n{self.log()}"
            )
        return result.stdout

    def init(self) -> None:
        """``initdb`` with trust authentication and settings that suit a short-lived test server."""
        self.socket_dir.mkdir(exist_ok=True)
        if self.user is not None:
            for path in (self.root, self.socket_dir):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        self._checked(
            "initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "fsync": "off",
            "full_page_writes": "off",
            "shared_buffers": "16MB",
            "max_connections": "60",
            "logging_collector": "off",
        }
        with (self.data_dir / "postgresql.auto.conf").open("a") as conf:
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def start(self, timeout: float = 60.0) -> None:
        """Start and wait until it accepts connections (same port every time)."""
        self._checked(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-w",
            "-t",
            str(int(timeout)),
            "start",
            timeout=timeout + 10,
        )
        self.wait_ready(timeout)

    def stop(self, mode: StopMode = "fast", timeout: float = 60.0) -> None:
        """Stop it: ``fast`` disconnects clients cleanly, ``immediate`` is a crash."""
        self._checked(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-m",
            mode,
            "-w",
            "-t",
            str(int(timeout)),
            "stop",
            timeout=timeout + 10,
        )

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data_dir), "status").returncode == 0

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2, autocommit=True) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def create_database(self, name: str) -> str:
        """Create a database; its DSN."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.dsn(name)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def destroy(self) -> None:
        """Stop it if it runs (immediately) and delete its folder."""
        with contextlib.suppress(Exception):
            if self.running():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[PgCluster]:
    """A started cluster on a free port, destroyed afterwards whatever happened."""
    # Not under pytest's tmp_path: that is private to root, and PostgreSQL runs as another user.
    root = Path(tempfile.mkdtemp(prefix="inventory-pg-"))
    cluster = PgCluster(root, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
