"""Trigram index for ListProducts ``name:`` substring filters, where pg_trgm is available.

``name:"bolt"`` is a case-insensitive substring match (``name ILIKE '%bolt%'``),
which a B-tree cannot serve: over 1,000,000 products it scanned for ~200 ms
(bench/bench_scale.py). A pg_trgm GIN index serves ILIKE. pg_trgm ships with
PostgreSQL's contrib modules (Debian's postgresql packages have it; the
embedded pgserver build does not): where it is missing this migration changes
nothing and such filters keep scanning.

Non-transactional, so the index is built CONCURRENTLY without blocking writes.
"""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg
from psycopg import errors

TRANSACTIONAL = False


def up(conn: psycopg.Connection[Any]) -> None:
    """Create the extension (if available) and the index."""
    available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").fetchone()
    if available is None:
        return
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    conn.execute("DROP INDEX CONCURRENTLY IF EXISTS products_name_trgm_idx")
    conn.execute("CREATE INDEX CONCURRENTLY products_name_trgm_idx ON products USING gin (name gin_trgm_ops)")


def down(conn: psycopg.Connection[Any]) -> None:
    """Drop the index, and the extension unless something else uses it."""
    conn.execute("DROP INDEX CONCURRENTLY IF EXISTS products_name_trgm_idx")
    # Another object of this database may rely on pg_trgm: then it stays installed.
    with contextlib.suppress(errors.DependentObjectsStillExist):
        conn.execute("DROP EXTENSION IF EXISTS pg_trgm")
