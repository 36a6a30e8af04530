"""What the observability interceptor adds to one call, in microseconds (no network, no database).

Drives ``ObservabilityInterceptor`` the way grpc.aio does (``intercept_service``
per call, then the wrapped handler) around a handler that returns at once, and
subtracts the same loop without it. Times are CPU seconds of this process
(``time.process_time``), so other processes on a shared machine do not inflate
them. Each configuration runs interleaved rounds; the median round is
reported::

    .venv/bin/python bench/bench_observability.py            # 20000 calls x 7 rounds
    .venv/bin/python bench/bench_observability.py --calls 5000 --rounds 3
    .venv/bin/python bench/bench_observability.py --server   # a real server's CPU per call, by setting

Configurations: everything off; metrics only; metrics + the access line (text
and JSON, written to /dev/null); metrics + access line + tracing (SDK provider,
batching into an exporter that drops the spans).

``--server`` measures the same end to end: a real server process per setting
(its log to a file, spans with ``OTEL_TRACES_EXPORTER=console`` to that file
too), the same sequential GetWarehouse calls, and the server's own CPU time
per call from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import grpc
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from inventory_client.v1 import warehouse_pb2
from inventory_server.api.observability import ObservabilityInterceptor
from inventory_server.observability.logs import ACCESS_LOGGER, configure_logging
from inventory_server.observability.metrics import GrpcMetrics, new_registry

METHOD = "/inventory.v1.WarehouseService/GetWarehouse"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class FakeContext:
    """The parts of a grpc.aio ServicerContext the interceptor touches."""

    def code(self) -> None:
        return None

    def peer(self) -> str:
        return "ipv4:127.0.0.1:40000"


class Details:
    method = METHOD
    invocation_metadata = (("traceparent", TRACEPARENT), ("user-agent", "grpc-python"))


class DroppingExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def handler_behaviour(request: Any, ctx: Any) -> Any:
    return request


async def run(interceptor: ObservabilityInterceptor | None, calls: int) -> float:
    """Seconds for ``calls`` calls through ``interceptor`` (None = the bare handler)."""
    handler = grpc.unary_unary_rpc_method_handler(handler_behaviour)
    request = warehouse_pb2.GetWarehouseRequest(id="0b3a")
    ctx: Any = FakeContext()
    details: Any = Details()

    async def continuation(details: Any) -> Any:
        return handler

    started = time.process_time()
    for _ in range(calls):
        wrapped: Any = handler
        if interceptor is not None:
            wrapped = await interceptor.intercept_service(continuation, details)
        await wrapped.unary_unary(request, ctx)
    return time.process_time() - started


def configurations() -> dict[str, Callable[[], ObservabilityInterceptor]]:
    def logs(fmt: str | None) -> None:
        configure_logging("INFO" if fmt else "WARNING", fmt or "text", open(os.devnull, "w"))  # noqa: SIM115

    def everything_off() -> ObservabilityInterceptor:
        logs(None)
        return ObservabilityInterceptor()

    def metrics() -> ObservabilityInterceptor:
        logs(None)
        return ObservabilityInterceptor(GrpcMetrics(new_registry()))

    def metrics_text_log() -> ObservabilityInterceptor:
        logs("text")
        return ObservabilityInterceptor(GrpcMetrics(new_registry()))

    def metrics_json_log() -> ObservabilityInterceptor:
        logs("json")
        return ObservabilityInterceptor(GrpcMetrics(new_registry()))

    def all_on() -> ObservabilityInterceptor:
        logs("json")
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(DroppingExporter()))
        return ObservabilityInterceptor(GrpcMetrics(new_registry()), provider.get_tracer("bench"))

    return {
        "everything off": everything_off,
        "metrics": metrics,
        "metrics + text access line": metrics_text_log,
        "metrics + json access line": metrics_json_log,
        "metrics + json access line + tracing": all_on,
    }


SERVER_SETTINGS: dict[str, dict[str, str]] = {
    "everything off": {"INVENTORY_LOG_LEVEL": "WARNING"},
    "metrics": {"INVENTORY_LOG_LEVEL": "WARNING", "INVENTORY_METRICS_PORT": "0"},
    "metrics + json access line": {
        "INVENTORY_LOG_LEVEL": "INFO",
        "INVENTORY_LOG_FORMAT": "json",
        "INVENTORY_METRICS_PORT": "0",
    },
    "metrics + json access line + tracing": {
        "INVENTORY_LOG_LEVEL": "INFO",
        "INVENTORY_LOG_FORMAT": "json",
        "INVENTORY_METRICS_PORT": "0",
        "OTEL_TRACES_EXPORTER": "console",
    },
}


def server_cpu_per_call(calls: int, rounds: int) -> None:
    """Microseconds of server CPU per GetWarehouse, for each setting (median of ``rounds`` servers)."""
    import uuid

    import psycopg
    from harness import cpu_seconds, free_port, running_server, throwaway_database

    from inventory_client.v1 import warehouse_pb2_grpc

    results: dict[str, list[float]] = {name: [] for name in SERVER_SETTINGS}
    with throwaway_database() as dsn:
        warehouse = uuid.uuid4()
        with psycopg.connect(dsn) as conn:
            conn.execute(
                "INSERT INTO warehouses (id, code, name) VALUES (%s, 'BENCH', 'Bench')", (warehouse,)
            )
        for _ in range(rounds):
            for name, env in SERVER_SETTINGS.items():
                if env.get("INVENTORY_METRICS_PORT") == "0":
                    env = {**env, "INVENTORY_METRICS_PORT": str(free_port())}
                with running_server(dsn, env) as server, grpc.insecure_channel(server.target) as channel:
                    stub = warehouse_pb2_grpc.WarehouseServiceStub(channel)
                    request = warehouse_pb2.GetWarehouseRequest(id=str(warehouse))
                    for _ in range(200):  # warm-up: connections, prepared statements
                        stub.GetWarehouse(request)
                    before = cpu_seconds(server.pid)
                    for _ in range(calls):
                        stub.GetWarehouse(request)
                    results[name].append((cpu_seconds(server.pid) - before) / calls * 1e6)
    base = statistics.median(results["everything off"])
    print(f"server CPU per GetWarehouse, everything off: {base:.0f} us ({calls} calls x {rounds} servers)")
    for name, values in results.items():
        print(f"{name:40s} {statistics.median(values):6.0f} us  (+{statistics.median(values) - base:.0f})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--server", action="store_true", help="measure a real server process instead")
    args = parser.parse_args()
    if args.server:
        server_cpu_per_call(min(args.calls, 3000), min(args.rounds, 3))
        return
    builds = configurations()
    results: dict[str, list[float]] = {name: [] for name in builds}
    bare: list[float] = []
    for _ in range(args.rounds):
        bare.append(await run(None, args.calls))
        for name, build in builds.items():
            results[name].append(await run(build(), args.calls))
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET)
    base = statistics.median(bare)
    print(f"bare handler: {base / args.calls * 1e6:.2f} us/call ({args.calls} calls x {args.rounds} rounds)")
    for name, times in results.items():
        added = (statistics.median(times) - base) / args.calls * 1e6
        print(f"{name:40s} +{added:6.2f} us/call")


if __name__ == "__main__":
    asyncio.run(main())
