"""A session the server ended is a lost connection (retried), whatever psycopg raises on top of it."""

from __future__ import annotations

import psycopg
from psycopg import errors as pg_errors

from inventory_server.db.transaction_manager import _server_ended_session


def _chained(outer: Exception, cause: Exception) -> Exception:
    try:
        try:
            raise cause
        except Exception:
            raise outer  # noqa: B904 - the implicit context is the point
    except Exception as exc:
        return exc


def test_a_pipeline_exit_error_over_a_terminated_backend_is_a_lost_session() -> None:
    # what the chaos test saw: AdminShutdown inside a pipeline, then "cannot exit pipeline mode while busy"
    exc = _chained(
        psycopg.OperationalError("cannot exit pipeline mode while busy"),
        pg_errors.AdminShutdown("terminating connection due to administrator command"),
    )
    assert _server_ended_session(exc)


def test_other_operational_errors_are_not_taken_for_a_lost_session() -> None:
    assert not _server_ended_session(psycopg.OperationalError("something else"))
    assert not _server_ended_session(
        _chained(psycopg.OperationalError("outer"), pg_errors.DiskFull("no space"))
    )
