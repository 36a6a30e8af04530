"""What the listener does with each notification payload (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from inventory_server.cache import ProductCache
from inventory_server.cache.listener import ProductChangeListener, listener_connect_kwargs, parse_payload
from inventory_server.domain.product import Product


def product() -> Product:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Product(uuid.uuid4(), "S", "n", "", 0, "", 0, {}, now, now, None, 1)


def test_a_payload_of_ids_names_each_id() -> None:
    ids = [uuid.uuid4() for _ in range(3)]
    assert parse_payload(",".join(map(str, ids))) == ids


def test_star_and_unreadable_payloads_mean_everything() -> None:
    assert parse_payload("*") is None
    assert parse_payload("not-a-uuid") is None
    assert parse_payload("") is None


def test_apply_drops_the_named_ids_only() -> None:
    cache = ProductCache(10, 30.0)
    cache.resume()
    keep, drop = product(), product()
    for p in (keep, drop):
        cache.put(p, cache.ticket())
    ProductChangeListener("", cache).apply(str(drop.id))
    assert cache.get(drop.id) is None
    assert cache.get(keep.id) is keep


def test_apply_of_star_empties_the_cache() -> None:
    cache = ProductCache(10, 30.0)
    cache.resume()
    p = product()
    cache.put(p, cache.ticket())
    ProductChangeListener("", cache).apply("*")
    assert cache.figures().size == 0
    assert cache.serving


def test_the_listener_connection_has_its_own_application_name_and_keepalives() -> None:
    kwargs = listener_connect_kwargs("inventory-server", 2.0)
    assert kwargs["application_name"] == "inventory-server-listener"
    assert kwargs["keepalives"] == 1
    assert kwargs["keepalives_idle"] == 2
