"""Builds the product cache and its listener from the settings (called by ``Application.start``)."""

from __future__ import annotations

import logging

from inventory_server.cache.listener import ProductChangeListener, listener_connect_kwargs
from inventory_server.cache.product_cache import ProductCache
from inventory_server.config import Settings

log = logging.getLogger(__name__)


def build_product_cache(settings: Settings, dsn: str) -> tuple[ProductCache, ProductChangeListener | None]:
    """The cache and, when it is enabled, the listener that must run for it to serve.

    Behind a transaction-mode PgBouncer LISTEN would silently receive nothing, so
    there the cache needs ``INVENTORY_CACHE_LISTEN_URL`` (a direct DSN) or stays off.
    """
    enabled = settings.cache_enabled
    listen_dsn = settings.cache_listen_url or dsn
    if enabled and settings.pgbouncer and not settings.cache_listen_url:
        log.warning(
            "product cache off: INVENTORY_PGBOUNCER is set and INVENTORY_CACHE_LISTEN_URL is not "
            "(LISTEN needs a session, which a transaction-mode pool does not keep)"
        )
        enabled = False
    cache = ProductCache(settings.cache_max_entries, settings.cache_ttl_seconds, enabled)
    if not enabled:
        return cache, None
    listener = ProductChangeListener(
        listen_dsn,
        cache,
        heartbeat_interval=settings.cache_heartbeat_interval,
        connect_kwargs=listener_connect_kwargs(settings.application_name, settings.cache_heartbeat_interval),
    )
    return cache, listener
