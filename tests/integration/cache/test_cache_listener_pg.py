"""The listener keeps the cache honest: NOTIFY invalidates, a lost connection empties and bypasses it."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from inventory_server.cache import ProductCache
from inventory_server.cache.listener import ProductChangeListener

from .cache_helpers import APPLICATION, HEARTBEAT, FreezableProxy, create_product, wait_for

BOUND = 2 * HEARTBEAT  # the documented staleness bound for this heartbeat


async def test_an_update_in_another_session_invalidates_the_cached_row_within_the_bound(
    listener: ProductChangeListener, cache: ProductCache, writer: psycopg.AsyncConnection[Any]
) -> None:
    product = await create_product(writer)
    assert cache.put(product, cache.ticket())
    await writer.execute("UPDATE products SET name = 'Renamed' WHERE id = %s", (product.id,))
    latency = await wait_for(lambda: cache.get(product.id) is None, BOUND)
    assert latency is not None, "the cached row outlived the staleness bound"
    print(f"invalidated {latency * 1000:.1f} ms after the commit returned")


async def test_a_delete_in_another_session_invalidates_too(
    listener: ProductChangeListener, cache: ProductCache, writer: psycopg.AsyncConnection[Any]
) -> None:
    product = await create_product(writer)
    cache.put(product, cache.ticket())
    await writer.execute("DELETE FROM products WHERE id = %s", (product.id,))
    assert await wait_for(lambda: cache.get(product.id) is None, BOUND) is not None


async def test_a_rolled_back_update_invalidates_nothing(
    listener: ProductChangeListener, cache: ProductCache, writer: psycopg.AsyncConnection[Any]
) -> None:
    product = await create_product(writer)
    cache.put(product, cache.ticket())
    async with writer.transaction(force_rollback=True):
        await writer.execute("UPDATE products SET name = 'Never' WHERE id = %s", (product.id,))
    before = listener.notifications
    await wait_for(lambda: False, 3 * HEARTBEAT)  # a heartbeat has passed: anything sent has arrived
    assert listener.notifications == before
    assert cache.get(product.id) is product


async def _listener_pids(conn: psycopg.AsyncConnection[Any]) -> list[int]:
    cursor = await conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
        (f"{APPLICATION}-listener",),
    )
    return [row[0] for row in await cursor.fetchall()]


async def _allow_connections(admin_dsn: str, dbname: str, allow: bool) -> None:
    async with await psycopg.AsyncConnection.connect(admin_dsn, autocommit=True) as admin:
        await admin.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(dbname), sql.Literal(allow)
            )
        )


async def test_a_terminated_listener_empties_and_bypasses_the_cache_until_it_listens_again(
    listener: ProductChangeListener,
    cache: ProductCache,
    writer: psycopg.AsyncConnection[Any],
    admin_dsn: str,
    migrated_dsn: str,
) -> None:
    dbname = str(conninfo_to_dict(migrated_dsn)["dbname"])
    product = await create_product(writer)
    cache.put(product, cache.ticket())
    (pid,) = await _listener_pids(writer)
    # Keep it from reconnecting, so the outage lasts while we write.
    await _allow_connections(admin_dsn, dbname, False)
    try:
        await writer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert await wait_for(lambda: not cache.serving, BOUND) is not None
        assert cache.figures().size == 0
        # This change's notification goes nowhere: nobody is listening.
        await writer.execute("UPDATE products SET name = 'During outage' WHERE id = %s", (product.id,))
        assert cache.get(product.id) is None
        assert not cache.put(product, cache.ticket())  # the stale row cannot come back
        await wait_for(lambda: False, 3 * HEARTBEAT)
        assert not cache.serving, "resumed although it could not reconnect"
    finally:
        await _allow_connections(admin_dsn, dbname, True)
    assert await listener.wait_listening(10)
    assert cache.serving
    assert (await _listener_pids(writer)) not in ([], [pid])
    # And it works again.
    fresh = await create_product(writer, "W-2")
    assert cache.put(fresh, cache.ticket())
    await writer.execute("UPDATE products SET name = 'After' WHERE id = %s", (fresh.id,))
    assert await wait_for(lambda: cache.get(fresh.id) is None, BOUND) is not None


async def test_a_listener_that_cannot_connect_at_start_leaves_the_cache_bypassed(
    cache: ProductCache,
) -> None:
    dead = ProductChangeListener(
        "postgresql://postgres@127.0.0.1:1/none", cache, heartbeat_interval=HEARTBEAT, connect_timeout=1
    )
    await dead.start()
    try:
        assert not await dead.wait_listening(1.5)
        assert not cache.serving
    finally:
        await dead.stop()


async def test_a_silently_dead_listener_connection_is_noticed_by_the_heartbeat(
    migrated_dsn: str, cache: ProductCache, writer: psycopg.AsyncConnection[Any]
) -> None:
    params = conninfo_to_dict(migrated_dsn)
    proxy = FreezableProxy(str(params.get("host", "127.0.0.1")), int(str(params.get("port") or 5432)))
    await proxy.start()
    behind_proxy = make_conninfo(migrated_dsn, host="127.0.0.1", port=proxy.port)
    quiet = ProductChangeListener(behind_proxy, cache, heartbeat_interval=HEARTBEAT, max_backoff=0.5)
    await quiet.start()
    try:
        assert await quiet.wait_listening(10)
        product = await create_product(writer)
        cache.put(product, cache.ticket())
        proxy.freeze()
        frozen_at = time.monotonic()
        # The change is committed but its notification cannot arrive.
        await writer.execute("UPDATE products SET name = 'Unheard' WHERE id = %s", (product.id,))
        noticed = await wait_for(lambda: not cache.serving, BOUND + 1)
        assert noticed is not None, "a silently dead listener kept the cache serving"
        assert time.monotonic() - frozen_at <= BOUND + 0.5
        assert cache.get(product.id) is None
        print(f"silent death noticed after {(time.monotonic() - frozen_at) * 1000:.0f} ms")
        proxy.thaw()
        assert await quiet.wait_listening(30), "the listener did not come back after the network did"
        assert cache.serving
    finally:
        await quiet.stop()
        await proxy.stop()
