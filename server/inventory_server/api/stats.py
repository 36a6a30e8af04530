"""StatsService servicer: turns the Stats snapshot into a GetStatsResponse, nothing more.

``to_proto`` is the one place each figure becomes its proto message; the
service is wired in the composition root (``app.py``).
"""

from __future__ import annotations

from typing import Any

from grpc import aio

from inventory_client.v1 import stats_pb2 as pb
from inventory_client.v1 import stats_pb2_grpc
from inventory_server.api.convert import timestamp
from inventory_server.services.stats import StatsService, StatsSnapshot

Context = aio.ServicerContext[Any, Any]

# Initial metadata of Stats and health replies under --workers: the index of the worker that answered.
WORKER_METADATA = "inventory-worker"


def to_proto(s: StatsSnapshot) -> pb.GetStatsResponse:
    """The proto form of a snapshot; ``database`` stays unset when the database could not be read."""
    p = s.pool
    reply = pb.GetStatsResponse(
        pool=pb.PoolStats(
            size=p.size,
            idle=p.idle,
            in_use=p.in_use,
            waiting=p.waiting,
            min_size=p.min_size,
            max_size=p.max_size,
            connections_made=p.connections_made,
            connections_lost=p.connections_lost,
            acquisition_timeouts=p.acquisition_timeouts,
            wait_time_ms=p.wait_time_ms,
            requests=p.requests,
            requests_waited=p.requests_waited,
        ),
        health=pb.HealthStats(
            status="SERVING" if s.health.serving else "NOT_SERVING",
            last_check_time=timestamp(s.health.last_check_time),
            latency_ms=s.health.latency_ms,
            consecutive_failures=s.health.consecutive_failures,
            checks=s.health.checks,
            reason=s.health.reason,
        ),
        methods=[
            pb.MethodStats(
                method=m.method,
                calls=m.calls,
                errors_by_code=dict(m.errors_by_code),
                p50_ms=m.p50_ms,
                p95_ms=m.p95_ms,
                p99_ms=m.p99_ms,
            )
            for m in s.methods
        ],
        queries=[
            pb.QueryStats(operation=name, count=q.calls, mean_ms=q.mean_ms, p95_ms=q.p95_ms, errors=q.errors)
            for name, q in s.queries.items()
        ],
        cache=pb.CacheStats(
            enabled=s.cache.enabled,
            size=s.cache.size,
            max_size=s.cache.max_size,
            hits=s.cache.hits,
            misses=s.cache.misses,
            hit_ratio=s.cache.hit_ratio,
            invalidations=s.cache.invalidations,
        ),
        schema_version=s.database.schema_version,
        server_version=s.server_version,
        uptime_seconds=s.uptime_seconds,
        recommendation=pb.PoolRecommendation(
            recommended_max_size=s.recommendation.max_size, reason=s.recommendation.reason
        ),
        database_version=s.database.server_version,
        transactions=pb.TransactionStats(retries=s.transactions.retries, conflicts=s.transactions.conflicts),
        replicas=[
            pb.ReplicaStats(
                name=r.name,
                state=r.state,
                lag_seconds=r.lag_seconds,
                lag_bytes=r.lag_bytes,
                reads=r.reads,
                failures=r.failures,
            )
            for r in s.replicas.replicas
        ],
        replica_eligible_primary_reads=s.replicas.primary_reads,
        replica_reads_share=s.replicas.share,
    )
    d = s.database.figures
    if d is not None:
        reply.database.CopyFrom(
            pb.DatabaseStats(
                size_bytes=d.size_bytes,
                connections=d.connections,
                commits=d.commits,
                rollbacks=d.rollbacks,
                deadlocks=d.deadlocks,
                cache_hit_ratio=d.cache_hit_ratio,
            )
        )
    return reply


class StatsServicer(stats_pb2_grpc.StatsServiceServicer):
    """Implements inventory.v1.StatsService over ``StatsService``."""

    def __init__(self, stats: StatsService, *, worker: int | None = None) -> None:
        self.stats = stats
        # Under --workers the figures are this worker's: the reply says which one answered.
        self._metadata = None if worker is None else ((WORKER_METADATA, str(worker)),)

    async def GetStats(self, request: pb.GetStatsRequest, context: Context) -> pb.GetStatsResponse:
        if self._metadata is not None:
            await context.send_initial_metadata(self._metadata)
        return to_proto(await self.stats.snapshot())
