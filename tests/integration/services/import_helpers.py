"""Building import streams and reading back what they loaded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import psycopg

from inventory_server.domain.product import NewProduct
from inventory_server.services.product_import import ImportRow


def row(sku: str, name: str = "Imported", **fields: Any) -> ImportRow:
    return ImportRow(sku, NewProduct(sku=sku, name=name, **fields))


async def rows(items: Iterable[ImportRow]) -> AsyncIterator[ImportRow]:
    for item in items:
        yield item


async def product_count(conn: psycopg.AsyncConnection[Any]) -> int:
    cursor = await conn.execute("SELECT count(*) FROM products")
    found = await cursor.fetchone()
    return int(found[0]) if found else 0


async def by_sku(conn: psycopg.AsyncConnection[Any], sku: str) -> dict[str, Any]:
    cursor = await conn.execute(
        "SELECT sku, name, unit_price_minor, version, update_time, create_time, delete_time "
        "FROM products WHERE lower(sku) = lower(%s)",
        (sku,),
    )
    found = await cursor.fetchone()
    if found is None:
        raise LookupError(sku)
    names = [c.name for c in cursor.description or []]
    return dict(zip(names, found, strict=True))
