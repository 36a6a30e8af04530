"""The product read cache and the LISTEN/NOTIFY listener that keeps replicas' caches honest."""

from inventory_server.cache.product_cache import CacheFigures, ProductCache, Ticket

__all__ = ["CacheFigures", "ProductCache", "Ticket"]
