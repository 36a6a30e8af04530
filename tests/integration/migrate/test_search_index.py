"""Migration 0010: the trigram index serves ListProducts ``name:`` filters where pg_trgm exists."""

from __future__ import annotations

import psycopg


def test_name_substring_filters_use_the_trigram_index_when_pg_trgm_is_available(migrated_dsn: str) -> None:
    with psycopg.connect(migrated_dsn) as conn:
        available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").fetchone()
        index = conn.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'products_name_trgm_idx'").fetchone()
        assert (index is not None) == (available is not None)
        if available is None:
            return
        conn.execute(
            "INSERT INTO products (sku, name) "
            "SELECT 'T-' || g, 'Thing ' || g FROM generate_series(1, 20000) g"
        )
        conn.execute("ANALYZE products")
        plan = "\n".join(
            row[0]
            for row in conn.execute("EXPLAIN SELECT id FROM products WHERE name ILIKE %s", ["%ing 1234%"])
        )
    assert "products_name_trgm_idx" in plan, plan
