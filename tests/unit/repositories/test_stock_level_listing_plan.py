"""Stock levels list through the shared planner with a composite key (warehouse_id, product_id)."""

from __future__ import annotations

import hashlib

from inventory_server.db.listing import plan_list
from inventory_server.domain.paging import ListQuery
from inventory_server.repositories.stock_levels import LEVEL_LIST_FIELDS

EXTRA = {"product_id": "", "warehouse_id": "", "below_reorder_point": False}


def order(order_by: str) -> list[tuple[str, str]]:
    plan = plan_list(LEVEL_LIST_FIELDS, ListQuery(order_by=order_by), extra=EXTRA)
    return [(spec.name, direction) for spec, direction in plan.sort_keys]


def test_every_order_ends_with_both_key_columns_in_the_direction_before_them() -> None:
    assert order("") == [("warehouse_id", "ASC"), ("product_id", "ASC")]
    assert order("on_hand desc") == [("on_hand", "DESC"), ("warehouse_id", "DESC"), ("product_id", "DESC")]
    assert order("product_id desc") == [("product_id", "DESC"), ("warehouse_id", "DESC")]
    assert order("warehouse_id, product_id desc") == [("warehouse_id", "ASC"), ("product_id", "DESC")]


def test_the_token_fingerprint_is_what_the_former_private_planner_computed() -> None:
    # Tokens already handed out carry this digest: it must not change with the shared planner.
    text = (
        '{"extra":{"below_reorder_point":false,"product_id":"","warehouse_id":""},"filter":"",'
        '"order_by":[["warehouse_id","ASC"],["product_id","ASC"]],"resource":"stock_levels"}'
    )
    plan = plan_list(LEVEL_LIST_FIELDS, ListQuery(), extra=EXTRA)
    assert plan.fingerprint == hashlib.sha256(text.encode()).hexdigest()[:24]
