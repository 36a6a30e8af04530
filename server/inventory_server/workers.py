"""``serve --workers N``: N server processes on one port, supervised by this one.

One Python process serves on one core (one event loop); ``--workers N``
(``INVENTORY_WORKERS``) runs N of them behind the same address:

* The supervisor (the process that was started) checks the ports once with
  ``listen.ensure_free`` — a port another process holds is still an error,
  exit 3 — then starts N workers. Each binds the port with SO_REUSEPORT
  (``listen.server_options(share_port=True)``) and the kernel spreads incoming
  connections over them. A foreign server cannot join: it does not set
  SO_REUSEPORT (ours never do outside this mode), so its bind fails.
* A worker that dies is logged and started again (at most once a second per
  worker). A worker that cannot start at all the first time (configuration,
  busy port: exit 2 or 3) stops the whole server with that exit code.
* SIGTERM / SIGINT to the supervisor is passed to every worker; each drains
  as a single server does (health NOT_SERVING, the grace period, pool closed);
  the supervisor exits 0 once all have ended.
* Each worker is a whole server with its own pool, cache and cache listener,
  database health monitor, change-stream listener and Stats; Stats and health
  ``Check`` replies carry the initial metadata ``inventory-worker: <index>``.
  The database-wide loops (request_id purge, stream-position purge,
  reservation expiry) run in worker 0 only.
* Metrics (``INVENTORY_METRICS_PORT``): prometheus-client's multiprocess mode.
  The supervisor creates an empty ``PROMETHEUS_MULTIPROC_DIR`` before the
  workers start, serves the one endpoint with a ``MultiProcessCollector``,
  marks dead workers with ``mark_process_dead`` and removes the directory at
  exit. The ``grpc_server_*`` series add up over the workers; each worker
  publishes its service figures (pool, cache, health, retries, schema
  version) every second (``observability.metrics.WorkerFigures``).

Workers are started with multiprocessing's *spawn* (a fresh interpreter: no
inherited event loop, gRPC core or pool threads) and get the settings and the
DSN as arguments, never through the environment or the command line.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inventory_server.config import Settings

log = logging.getLogger("inventory_server.workers")

EXIT_CONFIG = 2
EXIT_CANNOT_LISTEN = 3
# A worker restarted sooner than this after its last start waits out the rest: a worker that
# crashes at once must not spin the supervisor.
RESTART_INTERVAL = 1.0


def worker_main(settings: Settings, dsn: str, index: int) -> None:
    """A worker process: one whole server on the shared port until SIGTERM/SIGINT."""
    import asyncio

    from inventory_server.auth.watched import FileLoadError
    from inventory_server.cli import _serve
    from inventory_server.listen import ListenError
    from inventory_server.observability.logs import configure_logging
    from inventory_server.observability.tracing import TracingConfigError, tracer_provider_from_environment
    from inventory_server.tls import TLSConfigError

    configure_logging(settings.log_level, settings.log_format)
    try:
        asyncio.run(_serve(settings, dsn, tracer_provider_from_environment(), worker=index))
    except (TLSConfigError, FileLoadError, TracingConfigError) as exc:
        log.error("worker %d: configuration error: %s", index, exc)
        raise SystemExit(EXIT_CONFIG) from None
    except ListenError as exc:
        log.error("worker %d: %s", index, exc)
        raise SystemExit(EXIT_CANNOT_LISTEN) from None


@dataclass
class _Worker:
    index: int
    process: BaseProcess
    started: float


class Supervisor:
    """Starts, restarts and stops the workers; serves the merged metrics when they are on."""

    def __init__(self, settings: Settings, dsn: str) -> None:
        self.settings = settings
        self.dsn = dsn
        self._context = multiprocessing.get_context("spawn")
        self._workers: dict[int, _Worker] = {}
        self._stopping = False
        self.restarts = 0

    def _start(self, index: int) -> _Worker:
        process = self._context.Process(
            target=worker_main, args=(self.settings, self.dsn, index), name=f"inventory-worker-{index}"
        )
        process.start()
        worker = self._workers[index] = _Worker(index, process, time.monotonic())
        log.info("worker %d started (pid %s)", index, process.pid)
        return worker

    def _stop_requested(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def run(self) -> int:
        """Until SIGTERM/SIGINT; returns the exit code of ``serve``."""
        metrics_dir = None
        endpoint = None
        previous = {s: signal.signal(s, self._stop_requested) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            if self.settings.metrics_port:
                metrics_dir = tempfile.mkdtemp(prefix="inventory-metrics-")
                # Before the first worker starts: prometheus-client picks its storage at import.
                os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
            for index in range(self.settings.workers):
                self._start(index)
            if metrics_dir is not None:
                from inventory_server.observability.metrics import MetricsEndpoint, multiprocess_registry

                endpoint = MetricsEndpoint(multiprocess_registry())
                endpoint.start(self.settings.listen_host(), self.settings.metrics_port)
            log.info("supervising %d workers (pid %d)", self.settings.workers, os.getpid())
            return self._supervise(metrics_dir is not None)
        finally:
            self._stop_all()
            if endpoint is not None:
                endpoint.stop()
            if metrics_dir is not None:
                os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
                shutil.rmtree(metrics_dir, ignore_errors=True)
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _supervise(self, metrics: bool) -> int:
        while not self._stopping:
            sentinels = {w.process.sentinel: w for w in self._workers.values()}
            ready = wait(list(sentinels), timeout=0.5)
            now = time.monotonic()
            for sentinel in ready:
                worker = sentinels[sentinel]  # type: ignore[index]
                code = worker.process.exitcode
                pid = worker.process.pid
                worker.process.join()
                if metrics and pid is not None:
                    from inventory_server.observability.metrics import mark_worker_dead

                    mark_worker_dead(pid)
                if self._stopping:
                    continue
                if (
                    code in (EXIT_CONFIG, EXIT_CANNOT_LISTEN)
                    and now - worker.started < 30
                    and not self.restarts
                ):
                    # It never got going (bad configuration, the port taken): the server cannot work.
                    log.error("worker %d could not start (exit %s): stopping", worker.index, code)
                    return int(code or 1)
                log.warning("worker %d (pid %s) died (exit code %s): restarting it", worker.index, pid, code)
                time.sleep(max(0.0, worker.started + RESTART_INTERVAL - now))
                self.restarts += 1
                self._start(worker.index)
        return 0

    def _stop_all(self) -> None:
        """SIGTERM to every live worker, then wait for them to drain (SIGKILL after the grace period)."""
        live = [w.process for w in self._workers.values() if w.process.is_alive()]
        for process in live:
            if process.pid is not None:
                with contextlib.suppress(ProcessLookupError):  # it died just now: nothing to stop
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.grace_period + 15.0
        for process in live:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                log.error("worker pid %s did not stop in time: killing it", process.pid)
                process.kill()
                process.join()
        codes = [p.exitcode for p in live]
        log.info("all workers stopped (exit codes %s)", codes)


def run_workers(settings: Settings, dsn: str) -> int:
    """``serve`` with ``settings.workers`` > 1 (the ports were checked by the caller)."""
    return Supervisor(settings, dsn).run()
