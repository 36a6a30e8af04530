"""Metrics, traces and logs of a real server process (docs/operations.md, "Metrics, traces and logs").

One server runs with the Prometheus endpoint on, JSON logs and a DSN that
carries a password; the tests make known calls through the generated stubs
(no client-side retries that would change the counts), then scrape the
endpoint and parse it with prometheus_client's parser, and read every line
the server wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from psycopg.conninfo import make_conninfo

from inventory_client.v1 import (
    product_pb2,
    product_pb2_grpc,
    stats_pb2,
    stats_pb2_grpc,
    stock_pb2,
    stock_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
    warehouse_pb2,
    warehouse_pb2_grpc,
)
from tests.e2e.auth_helpers import AUDIENCE, ISSUER, Issuer, bearer, one_method_policy, write_file
from tests.e2e.conftest import ServerProcess, free_port, start_server, wait_until_serving

PASSWORD = "dsn-secret-9f3b"  # trust auth ignores it; it must never show in a log line
USER_PASSWORD = "user-secret-71c2"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
WAREHOUSE = "inventory.v1.WarehouseService"
PRODUCT = "inventory.v1.ProductService"
STOCK = "inventory.v1.StockService"


@pytest.fixture(scope="module")
def module_migrated_dsn(database_factory: Callable[..., str], migrated_template: str) -> str:
    """A migrated database for the module's one server (the session drops it)."""
    return database_factory(template=migrated_template)


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory, module_migrated_dsn: str) -> dict[str, Any]:
    """The server, the calls made to it (and what each returned), then its scrape and its log."""
    tmp_path = tmp_path_factory.mktemp("observed")
    metrics_port = free_port()
    env = {
        "DATABASE_URL": make_conninfo(module_migrated_dsn, password=PASSWORD),
        "INVENTORY_METRICS_PORT": str(metrics_port),
        "INVENTORY_LOG_FORMAT": "json",
        "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
        "INVENTORY_GRACE_PERIOD": "5",
        "INVENTORY_WATCH_HEARTBEAT_INTERVAL": "0.2",
    }
    server = start_server(tmp_path, env)
    try:
        calls = make_calls(server)
        calls["scrape"] = scrape_when_handled(metrics_port)
        calls["stats"] = get_stats(server)
    finally:
        code = server.stop()
    assert code == 0, server.log()
    calls["log"] = server.log_path.read_text()
    return calls


def make_calls(server: ServerProcess) -> dict[str, Any]:
    """Known calls: successes, failures of three kinds, a client stream, a replayed write."""
    metadata = (("traceparent", TRACEPARENT),)
    with grpc.insecure_channel(server.target) as channel:
        warehouses = warehouse_pb2_grpc.WarehouseServiceStub(channel)
        products = product_pb2_grpc.ProductServiceStub(channel)
        users = user_pb2_grpc.UserServiceStub(channel)
        stock = stock_pb2_grpc.StockServiceStub(channel)
        created = [
            warehouses.CreateWarehouse(
                warehouse_pb2.CreateWarehouseRequest(
                    warehouse=warehouse_pb2.Warehouse(code=f"WH-{uuid.uuid4().hex[:8]}", name="Depot"),
                    request_id=f"wh-{n}-{uuid.uuid4().hex[:6]}",
                ),
                metadata=metadata,
            ).warehouse
            for n in range(2)
        ]
        codes = {}
        for name, request_id, call_metadata in (
            ("missing", str(uuid.uuid4()), metadata),
            ("malformed", "not-a-uuid", ()),
        ):
            with pytest.raises(grpc.RpcError) as caught:
                warehouses.GetWarehouse(
                    warehouse_pb2.GetWarehouseRequest(id=request_id), metadata=call_metadata
                )
            codes[name] = caught.value.code()
        user = users.CreateUser(
            user_pb2.CreateUserRequest(
                user=user_pb2.User(email=f"{uuid.uuid4().hex[:8]}@example.com", role=user_pb2.ROLE_CLERK),
                password=USER_PASSWORD,
            )
        ).user
        imported = products.ImportProducts(
            iter(
                product_pb2.ImportProductsRequest(
                    product=product_pb2.Product(sku=f"IMP-{uuid.uuid4().hex[:8]}", name="Imported")
                )
                for _ in range(3)
            )
        )
        product = products.CreateProduct(
            product_pb2.CreateProductRequest(
                product=product_pb2.Product(sku=f"SKU-{uuid.uuid4().hex[:8]}", name="Widget")
            )
        ).product
        receive = stock_pb2.ReceiveStockRequest(
            product_id=product.id,
            warehouse_id=created[0].id,
            quantity=5,
            request_id=f"receive-{uuid.uuid4().hex}",
            performed_by=user.id,
        )
        first = stock.ReceiveStock(receive)
        again = stock.ReceiveStock(receive)  # the same request_id: answered from the stored result
        # A server stream: two heartbeats read, then the client goes away.
        watch = stock.WatchStockChanges(stock_pb2.WatchStockChangesRequest(), timeout=30)
        stream = iter(watch)
        heartbeats = [next(stream), next(stream)]
        watch.cancel()  # type: ignore[no-untyped-call]
    return {
        "codes": codes,
        "imported": imported,
        "receive_request_id": receive.request_id,
        "replayed": first == again,
        "heartbeats": len(heartbeats),
    }


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    """Every sample of the endpoint: (name, sorted labels) -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        assert reply.status == 200
        text = reply.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def scrape_when_handled(port: int) -> Samples:
    """A scrape once the cancelled stream has ended on the server too (it learns of it a little later)."""
    ended = (
        "grpc_server_handled_total",
        labels(STOCK, "WatchStockChanges", "server_stream", grpc_code="CANCELLED"),
    )
    deadline = time.monotonic() + 10
    while True:
        samples = scrape(port)
        if ended in samples:
            return samples
        watch = {key: value for key, value in samples.items() if "WatchStockChanges" in str(key)}
        assert time.monotonic() < deadline, f"the cancelled stream was never counted as handled: {watch}"
        time.sleep(0.1)


def get_stats(server: ServerProcess) -> stats_pb2.GetStatsResponse:
    with grpc.insecure_channel(server.target) as channel:
        return stats_pb2_grpc.StatsServiceStub(channel).GetStats(stats_pb2.GetStatsRequest())


def labels(service: str, method: str, grpc_type: str = "unary", **more: str) -> tuple[tuple[str, str], ...]:
    found = {"grpc_service": service, "grpc_method": method, "grpc_type": grpc_type, **more}
    return tuple(sorted(found.items()))


def test_grpc_series_count_every_call_with_its_labels(observed: dict[str, Any]) -> None:
    s = observed["scrape"]
    assert observed["codes"] == {
        "missing": grpc.StatusCode.NOT_FOUND,
        "malformed": grpc.StatusCode.INVALID_ARGUMENT,
    }
    create = labels(WAREHOUSE, "CreateWarehouse")
    get = labels(WAREHOUSE, "GetWarehouse")
    assert s[("grpc_server_started_total", create)] == 2
    assert s[("grpc_server_handled_total", labels(WAREHOUSE, "CreateWarehouse", grpc_code="OK"))] == 2
    assert s[("grpc_server_msg_received_total", create)] == 2
    assert s[("grpc_server_msg_sent_total", create)] == 2
    assert s[("grpc_server_handling_seconds_count", create)] == 2
    assert s[("grpc_server_handling_seconds_bucket", (*create, ("le", "+Inf")))] == 2
    assert s[("grpc_server_started_total", get)] == 2
    assert s[("grpc_server_handled_total", labels(WAREHOUSE, "GetWarehouse", grpc_code="NOT_FOUND"))] == 1
    assert (
        s[("grpc_server_handled_total", labels(WAREHOUSE, "GetWarehouse", grpc_code="INVALID_ARGUMENT"))] == 1
    )
    assert ("grpc_server_handled_total", labels(WAREHOUSE, "GetWarehouse", grpc_code="OK")) not in s
    assert s[("grpc_server_msg_received_total", get)] == 2
    assert s[("grpc_server_msg_sent_total", get)] == 0  # failed calls send no message
    # A client stream: three messages in, one out.
    imports = labels(PRODUCT, "ImportProducts", "client_stream")
    assert observed["imported"].inserted_count == 3
    assert s[("grpc_server_started_total", imports)] == 1
    assert s[("grpc_server_msg_received_total", imports)] == 3
    assert s[("grpc_server_msg_sent_total", imports)] == 1
    assert (
        s[("grpc_server_handled_total", labels(PRODUCT, "ImportProducts", "client_stream", grpc_code="OK"))]
        == 1
    )
    receive = labels(STOCK, "ReceiveStock", grpc_code="OK")
    assert s[("grpc_server_handled_total", receive)] == 2
    # A server stream: one message in, each heartbeat written out, ended by the client.
    watch = labels(STOCK, "WatchStockChanges", "server_stream")
    assert s[("grpc_server_started_total", watch)] == 1
    assert s[("grpc_server_msg_received_total", watch)] == 1
    assert s[("grpc_server_msg_sent_total", watch)] >= observed["heartbeats"] == 2
    handled = labels(STOCK, "WatchStockChanges", "server_stream", grpc_code="CANCELLED")
    assert s[("grpc_server_handled_total", handled)] == 1
    # Buckets are cumulative and end at the count.
    buckets = sorted(
        (float(dict(key[1])["le"]), value)
        for key, value in s.items()
        if key[0] == "grpc_server_handling_seconds_bucket"
        and dict(key[1])["grpc_method"] == "CreateWarehouse"
    )
    assert [value for _, value in buckets] == sorted(value for _, value in buckets)
    assert buckets[-1] == (float("inf"), 2)


def test_service_figures_are_the_ones_stats_reports(observed: dict[str, Any]) -> None:
    s, stats = observed["scrape"], observed["stats"]
    assert observed["replayed"]
    assert s[("inventory_idempotent_replays_total", ())] == 1
    assert s[("inventory_schema_version", ())] == float(stats.schema_version)
    assert s[("inventory_database_up", ())] == 1
    assert s[("inventory_db_pool_max_size", ())] == stats.pool.max_size
    assert s[("inventory_db_pool_size", ())] >= 1
    assert s[("inventory_db_pool_waiting", ())] == 0
    assert 0 <= s[("inventory_db_pool_idle", ())] <= s[("inventory_db_pool_size", ())]
    assert s[("inventory_cache_hits_total", ())] == stats.cache.hits
    assert s[("inventory_cache_misses_total", ())] == stats.cache.misses
    assert s[("inventory_transaction_retries_total", ())] == stats.transactions.retries
    assert s[("inventory_database_health_checks_total", ())] >= 1
    assert s[("inventory_build_info", (("version", stats.server_version),))] == 1
    assert ("process_cpu_seconds_total", ()) in s


def test_every_line_is_json_with_one_access_line_per_call_and_no_secret(observed: dict[str, Any]) -> None:
    text = observed["log"]
    assert PASSWORD not in text
    assert USER_PASSWORD not in text
    lines = [json.loads(line) for line in text.splitlines()]  # every line, or this raises
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    access = [line for line in lines if line["logger"] == "inventory_server.access"]
    # Health checks (the fixture's readiness polling) are DEBUG: only our calls, in order.
    methods = [(line["method"].rsplit("/", 1)[1], line["code"]) for line in access]
    assert methods == [
        ("CreateWarehouse", "OK"),
        ("CreateWarehouse", "OK"),
        ("GetWarehouse", "NOT_FOUND"),
        ("GetWarehouse", "INVALID_ARGUMENT"),
        ("CreateUser", "OK"),
        ("ImportProducts", "OK"),
        ("CreateProduct", "OK"),
        ("ReceiveStock", "OK"),
        ("ReceiveStock", "OK"),
        ("WatchStockChanges", "CANCELLED"),
        ("GetStats", "OK"),
    ]
    for line in access:
        assert set(line) >= {"method", "code", "duration_ms", "principal", "request_id", "trace_id", "peer"}
        assert line["method"].startswith("/inventory.v1.")
        assert isinstance(line["duration_ms"], float)
        assert line["duration_ms"] >= 0
        assert line["principal"] == ""  # nobody authenticates in this deployment
        assert line["peer"].startswith("ipv4:127.0.0.1:")
    # The caller's traceparent gives the trace id (tracing is off here: read from the header).
    assert [line["trace_id"] for line in access[:3]] == [TRACE_ID] * 3
    assert all(line["trace_id"] == "" for line in access[3:])
    assert access[0]["request_id"].startswith("wh-0-")
    assert access[-3]["request_id"] == access[-4]["request_id"] == observed["receive_request_id"]
    assert access[3]["request_id"] == ""


def test_access_lines_and_counts_name_the_principal_and_the_auth_codes(
    tmp_path: Path, database_factory: Callable[..., str], migrated_template: str
) -> None:
    """Authenticated calls: the principal in the access line, denials counted and logged, no token shown."""
    issuer = Issuer(tmp_path / "jwks.json")
    issuer.new_key("k1")
    issuer.publish("k1")
    policy = tmp_path / "policy.yaml"
    write_file(policy, one_method_policy({f"{WAREHOUSE}/ListWarehouses": "svc-reader"}))
    metrics_port = free_port()
    server = start_server(
        tmp_path,
        {
            "DATABASE_URL": database_factory(template=migrated_template),
            "INVENTORY_AUTH_POLICY_FILE": str(policy),
            "INVENTORY_JWT_JWKS_FILE": str(issuer.jwks_file),
            "INVENTORY_JWT_ISSUER": ISSUER,
            "INVENTORY_JWT_AUDIENCE": AUDIENCE,
            "INVENTORY_METRICS_PORT": str(metrics_port),
            "INVENTORY_LOG_FORMAT": "json",
            "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
            "INVENTORY_GRACE_PERIOD": "2",
        },
    )
    reader, stranger = issuer.token("svc-reader"), issuer.token("svc-stranger")
    try:
        with grpc.insecure_channel(server.target) as channel:
            stub = warehouse_pb2_grpc.WarehouseServiceStub(channel)
            stub.ListWarehouses(warehouse_pb2.ListWarehousesRequest(), metadata=bearer(reader))
            for metadata in (bearer(stranger), ()):
                with pytest.raises(grpc.RpcError):
                    stub.ListWarehouses(warehouse_pb2.ListWarehousesRequest(), metadata=metadata)
        samples = scrape(metrics_port)
    finally:
        code = server.stop()
    log = server.log()
    assert code == 0, log
    assert reader not in log
    assert stranger not in log
    access = [
        (line["principal"], line["code"])
        for line in map(json.loads, log.splitlines())
        if line["logger"] == "inventory_server.access"
    ]
    assert access == [("svc-reader", "OK"), ("svc-stranger", "PERMISSION_DENIED"), ("", "UNAUTHENTICATED")]
    for code_name in ("OK", "PERMISSION_DENIED", "UNAUTHENTICATED"):
        key = labels(WAREHOUSE, "ListWarehouses", grpc_code=code_name)
        assert samples[("grpc_server_handled_total", key)] == 1, code_name
    assert samples[("grpc_server_started_total", labels(WAREHOUSE, "ListWarehouses"))] == 3


def test_otel_variables_alone_turn_tracing_on_in_the_server_process(
    tmp_path: Path, database_factory: Callable[..., str], migrated_template: str
) -> None:
    """OTEL_TRACES_EXPORTER=console: the spans of a call, on stdout, in the caller's trace."""
    port = free_port()
    stdout, stderr = tmp_path / "spans.out", tmp_path / "server.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_factory(template=migrated_template),
        "INVENTORY_HOST": "127.0.0.1",
        "INVENTORY_PORT": str(port),
        "INVENTORY_LOG_FORMAT": "json",
        "INVENTORY_GRACE_PERIOD": "2",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_SERVICE_NAME": "inventory-under-test",
    }
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "inventory_server.cli", "serve"], env=env, stdout=out, stderr=err
        )
    server = ServerProcess(process, port, stderr)
    try:
        wait_until_serving(server.target, process, stderr)
        with grpc.insecure_channel(server.target) as channel:
            warehouse_pb2_grpc.WarehouseServiceStub(channel).CreateWarehouse(
                warehouse_pb2.CreateWarehouseRequest(
                    warehouse=warehouse_pb2.Warehouse(code=f"WH-{uuid.uuid4().hex[:8]}", name="Depot")
                ),
                metadata=(("traceparent", TRACEPARENT),),
            )
    finally:
        code = server.stop()
    assert code == 0, server.log()
    spans = console_spans(stdout.read_text())
    (call,) = [s for s in spans if s["name"] == f"{WAREHOUSE}/CreateWarehouse"]
    assert call["kind"] == "SpanKind.SERVER"
    assert call["context"]["trace_id"] == f"0x{TRACE_ID}"
    assert call["parent_id"] == "0x00f067aa0ba902b7"
    assert call["resource"]["attributes"]["service.name"] == "inventory-under-test"
    children = [s for s in spans if s["parent_id"] == call["context"]["span_id"]]
    assert "INSERT warehouses" in [s["name"] for s in children]
    assert {s["context"]["trace_id"] for s in children} == {f"0x{TRACE_ID}"}
    assert all(s["kind"] == "SpanKind.CLIENT" for s in children)


def console_spans(text: str) -> list[dict[str, Any]]:
    """The console exporter's output: JSON objects one after another (each over several lines)."""
    decoder, spans, at = json.JSONDecoder(), [], 0
    while (at := _skip_space(text, at)) < len(text):
        span, at = decoder.raw_decode(text, at)
        spans.append(span)
    return spans


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at
