"""The Stats use case: pool, health, method, query, cache, transaction and database figures at once."""

from inventory_server.services.stats.database import DatabaseReader
from inventory_server.services.stats.figures import StatsSnapshot
from inventory_server.services.stats.recommendation import recommend
from inventory_server.services.stats.service import StatsService, StatsSources

__all__ = ["DatabaseReader", "StatsService", "StatsSnapshot", "StatsSources", "recommend"]
