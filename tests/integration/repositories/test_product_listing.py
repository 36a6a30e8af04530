"""ProductRepository.list: filters, orders and keyset pages on PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.product import NewProduct, Product
from inventory_server.repositories.instrumentation import QueryStats
from inventory_server.repositories.products import ProductRepository

Conn = psycopg.AsyncConnection[Any]


async def seeded(conn: Conn, stats: QueryStats, count: int = 23) -> tuple[ProductRepository, list[Product]]:
    """``count`` products with many ties: three prices, two currencies, repeated names."""
    products = ProductRepository(conn, stats=stats)
    created = await products.create_many(
        [
            NewProduct(
                f"SKU-{n:03d}",
                f"Item {n % 4}",
                unit_price_minor=(n % 3) * 100,
                currency_code="EUR" if n % 2 else "USD",
                attributes={"color": ["red", "blue"][n % 2], "size": str(n % 5)},
            )
            for n in range(count)
        ]
    )
    return products, created


async def all_pages(products: ProductRepository, **query: Any) -> tuple[list[Product], int]:
    seen: list[Product] = []
    token, pages = "", 0
    while True:
        page = await products.list(ListQuery(page_token=token, **query))
        seen += page.items
        pages += 1
        token = page.next_page_token
        if not token:
            return seen, pages


def sort_key(order: list[tuple[str, bool]]) -> Any:
    """A Python sort key equal to the SQL order (+ id) for the given (field, descending) list."""

    def key(p: Product) -> tuple[Any, ...]:
        parts: list[Any] = []
        for name, descending in order:
            value = getattr(p, name)
            parts.append(_Reversed(value) if descending else value)
        parts.append(_Reversed(p.id) if order and order[-1][1] else p.id)
        return tuple(parts)

    return key


class _Reversed:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value


@pytest.mark.parametrize(
    ("order_by", "order"),
    [
        ("", [("create_time", False)]),
        ("unit_price_minor", [("unit_price_minor", False)]),
        ("unit_price_minor desc", [("unit_price_minor", True)]),
        ("unit_price_minor desc, name", [("unit_price_minor", True), ("name", False)]),
        (
            "currency_code, unit_price_minor desc, name desc",
            [("currency_code", False), ("unit_price_minor", True), ("name", True)],
        ),
    ],
)
async def test_keyset_pages_over_ties_return_every_row_once_in_order(
    conn: Conn, stats: QueryStats, order_by: str, order: list[tuple[str, bool]]
) -> None:
    products, created = await seeded(conn, stats)
    seen, pages = await all_pages(products, page_size=4, order_by=order_by)
    assert sorted(p.id for p in seen) == sorted(p.id for p in created)
    assert len(seen) == len(created)
    assert [p.id for p in seen] == [p.id for p in sorted(created, key=sort_key(order))]
    assert pages == 6
    assert stats.snapshot()["products.list"].queries == pages


async def test_a_full_last_page_has_no_next_token(conn: Conn, stats: QueryStats) -> None:
    products, _ = await seeded(conn, stats, count=8)
    _, pages = await all_pages(products, page_size=4)
    assert pages == 2


async def test_filters_select_matching_rows(conn: Conn, stats: QueryStats) -> None:
    products, created = await seeded(conn, stats)
    query = 'currency_code = "EUR" AND unit_price_minor >= 100 AND attributes.color = blue AND name:"item 1"'
    page = await products.list(ListQuery(page_size=100, filter=query))
    expected = [
        p
        for p in created
        if p.currency_code == "EUR"
        and p.unit_price_minor >= 100
        and p.attributes["color"] == "blue"
        and "item 1" in p.name.lower()
    ]
    assert expected
    assert sorted(p.sku for p in page.items) == sorted(p.sku for p in expected)


async def test_filters_on_timestamps_and_has_key(conn: Conn, stats: QueryStats) -> None:
    products, created = await seeded(conn, stats, count=3)
    moment = created[0].create_time.isoformat()
    assert len((await products.list(ListQuery(filter=f'create_time <= "{moment}"'))).items) == 3
    assert (await products.list(ListQuery(filter=f'create_time > "{moment}"'))).items == []
    assert len((await products.list(ListQuery(filter="attributes:size"))).items) == 3
    assert (await products.list(ListQuery(filter="attributes:weight"))).items == []


async def test_substring_filter_treats_wildcards_literally(conn: Conn, stats: QueryStats) -> None:
    products = ProductRepository(conn, stats=stats)
    await products.create_many(
        [NewProduct("W-1", "50% off"), NewProduct("W-2", "500 off"), NewProduct("W-3", "a_b")]
    )
    assert [p.sku for p in (await products.list(ListQuery(filter='name:"0%"'))).items] == ["W-1"]
    assert [p.sku for p in (await products.list(ListQuery(filter='name:"_"'))).items] == ["W-3"]


async def test_show_deleted_includes_soft_deleted_products(conn: Conn, stats: QueryStats) -> None:
    products, created = await seeded(conn, stats, count=4)
    await products.soft_delete(created[1].id, expected_version=None)
    visible = await products.list(ListQuery())
    everything = await products.list(ListQuery(show_deleted=True))
    assert created[1].id not in {p.id for p in visible.items}
    assert len(visible.items) == 3
    assert len(everything.items) == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (ListQuery(filter="colour = red"), "filter"),
        (ListQuery(filter="unit_price_minor = cheap"), "filter"),
        (ListQuery(filter="name = "), "filter"),
        (ListQuery(order_by="description"), "order_by"),
        (ListQuery(page_token="garbage!"), "page_token"),
    ],
)
async def test_bad_list_requests_are_invalid_arguments(
    conn: Conn, stats: QueryStats, query: ListQuery, field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await ProductRepository(conn, stats=stats).list(query)
    assert [v.field for v in caught.value.violations] == [field]


async def test_a_page_token_used_with_another_filter_is_refused(conn: Conn, stats: QueryStats) -> None:
    products, _ = await seeded(conn, stats, count=6)
    first = await products.list(ListQuery(page_size=2, filter="unit_price_minor >= 0"))
    assert first.next_page_token
    with pytest.raises(InvalidArgument) as caught:
        await products.list(
            ListQuery(page_size=2, filter="unit_price_minor >= 100", page_token=first.next_page_token)
        )
    assert caught.value.violations[0].field == "page_token"


async def test_nul_characters_in_a_filter_value_are_invalid_arguments(conn: Conn, stats: QueryStats) -> None:
    with pytest.raises(InvalidArgument):
        await ProductRepository(conn, stats=stats).list(ListQuery(filter='name = "a\x00b"'))


async def test_filter_by_id(conn: Conn, stats: QueryStats) -> None:
    products, created = await seeded(conn, stats, count=3)
    page = await products.list(ListQuery(filter=f'id = "{created[2].id}"'))
    assert [p.id for p in page.items] == [created[2].id]
    assert (await products.list(ListQuery(filter=f'id = "{uuid.uuid4()}"'))).items == []
