"""SQL spans: a psycopg cursor class that wraps each statement in an OpenTelemetry span.

Installed only when tracing is on (``Database(cursor_factory=...)``): with
tracing off the pool's connections use psycopg's own cursor and pay nothing.
Every statement a repository runs goes through ``cursor.execute``, so one
hook covers them all (transaction control and COPY data are not statements
of their own here and get no span).

A span is started only inside a recording span (a traced gRPC call), as its
child; background work (health checks, purges) makes no root spans of its
own. The span carries the statement's text, which holds placeholders only:
values are always parameters (the query builder and psycopg.sql), so no value,
let alone a secret, reaches a trace.
"""

from __future__ import annotations

from typing import Any

import psycopg
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer
from psycopg import sql

INSTRUMENTATION = "inventory_server.db"


def traced_cursor_class(tracer: Tracer) -> type[psycopg.AsyncCursor[Any]]:
    """A cursor class for ``psycopg.AsyncConnection(cursor_factory=...)`` that traces through ``tracer``."""

    class TracedCursor(psycopg.AsyncCursor[Any]):
        async def execute(
            self,
            query: Any,
            params: Any = None,
            *,
            prepare: bool | None = None,
            binary: bool | None = None,
        ) -> TracedCursor:
            if not trace.get_current_span().is_recording():
                await super().execute(query, params, prepare=prepare, binary=binary)
                return self
            text = statement_text(query, self)
            info = self.connection.info
            attributes: dict[str, str | int] = {
                "db.system.name": "postgresql",
                "db.system": "postgresql",  # the older semantic-convention name, still widely read
                "db.namespace": info.dbname,
                "db.operation.name": operation_of(text),
                "db.query.text": text,
                "server.address": info.host,
                "server.port": info.port,
            }
            with tracer.start_as_current_span(span_name(text), kind=SpanKind.CLIENT, attributes=attributes):
                await super().execute(query, params, prepare=prepare, binary=binary)
            return self

    return TracedCursor


def statement_text(query: Any, context: psycopg.AsyncCursor[Any]) -> str:
    if isinstance(query, str):
        return query
    if isinstance(query, bytes):
        return query.decode("utf-8", "replace")
    if isinstance(query, sql.Composable):
        return query.as_string(context)
    return str(query)


def operation_of(text: str) -> str:
    """The statement's first keyword: ``SELECT``, ``INSERT``, ``WITH`` ...

    >>> operation_of("  select 1")
    'SELECT'
    """
    words = text.split(None, 1)
    return words[0].upper() if words else ""


def span_name(text: str) -> str:
    """``"<OPERATION> <first table>"`` when a FROM/INTO/UPDATE target is easy to see, else the operation.

    >>> span_name('SELECT "id" FROM "products" WHERE "id" = %s')
    'SELECT products'
    >>> span_name('UPDATE "stock_levels" SET "on_hand" = %s')
    'UPDATE stock_levels'
    >>> span_name("SELECT 1")
    'SELECT'
    """
    operation = operation_of(text)
    words = text.split()
    upper = [w.upper() for w in words]
    marker = {"SELECT": "FROM", "DELETE": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE"}.get(operation)
    if marker and marker in upper:
        at = upper.index(marker) + 1
        if at < len(words):
            target = words[at].strip('"(),;').split('"."')[-1].strip('"')
            if target and target.replace("_", "").isalnum():
                return f"{operation} {target}"
    return operation or "SQL"
