"""Metrics, traces and logs of a real server process (docs/operations.md, "Metrics, traces and logs").

One server runs with the Prometheus endpoint on, JSON logs and a DSN that
carries a password; the tests make known calls through the generated stubs
(no client-side retries that would change the counts), then scrape the
endpoint and parse it with prometheus_client's parser, and read every line
the server wrote.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Callable
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
from tests.e2e.conftest import ServerProcess, free_port, start_server

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
    }
    server = start_server(tmp_path, env)
    try:
        calls = make_calls(server)
        calls["scrape"] = scrape(metrics_port)
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
    return {
        "codes": codes,
        "imported": imported,
        "receive_request_id": receive.request_id,
        "replayed": first == again,
    }


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the endpoint: (name, sorted labels) -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        assert reply.status == 200
        text = reply.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


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
    assert access[-2]["request_id"] == access[-3]["request_id"] == observed["receive_request_id"]
    assert access[3]["request_id"] == ""
