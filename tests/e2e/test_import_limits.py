"""ImportProducts cannot starve a replica: silent streams hold no connection, and are capped and timed out.

Finding 1 and 2 of issue 9: ten silent import streams held every pooled
connection in an open transaction, and rejected rows were echoed in full.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from inventory_client import DeadlineExceededError, InventoryClient, InventoryError, NotFoundError
from inventory_client.v1 import product_pb2 as pb

from .conftest import ServerProcess

IDLE_TIMEOUT = 3.0
MAX_IMPORTS = 4


@pytest.fixture
def server_env() -> dict[str, str]:
    return {
        "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
        "INVENTORY_GRACE_PERIOD": "2",
        "INVENTORY_IMPORT_IDLE_TIMEOUT": str(IDLE_TIMEOUT),
        "INVENTORY_IMPORT_MAX_CONCURRENT": str(MAX_IMPORTS),
    }


def _silent_after_one_row(release: threading.Event, sku: str) -> Iterator[pb.ImportProductsRequest]:
    yield pb.ImportProductsRequest(product=pb.Product(sku=sku, name="Silent"))
    release.wait(30)


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_twelve_silent_import_streams_do_not_stop_reads(
    server: ServerProcess, client: InventoryClient
) -> None:
    release = threading.Event()
    outcomes: list[str] = []
    lock = threading.Lock()

    def silent_import(number: int) -> None:
        try:
            client.products.ImportProducts(_silent_after_one_row(release, f"SILENT-{number}"), timeout=30)
            code = "OK"
        except InventoryError as error:
            code = error.code.name + (" retry" if error.retry_delay else "")
        with lock:
            outcomes.append(code)

    threads = [threading.Thread(target=silent_import, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # every stream has sent its row and gone silent
    try:
        with InventoryClient(server.target, timeout=1) as other:
            for _ in range(5):
                with pytest.raises(NotFoundError):
                    other.products.GetProduct(pb.GetProductRequest(id=str(uuid.uuid4())), timeout=1)
                other.products.ListProducts(pb.ListProductsRequest(page_size=5), timeout=1)
        for thread in threads:  # the admitted streams stay silent until the idle timeout ends them
            thread.join(30)
    finally:
        release.set()
    # Beyond the cap: refused at once, with a retry delay; the others ended by the idle timeout.
    assert sorted(outcomes) == sorted(
        ["DEADLINE_EXCEEDED"] * MAX_IMPORTS + ["RESOURCE_EXHAUSTED retry"] * (12 - MAX_IMPORTS)
    ), outcomes


def test_a_silent_stream_ends_deadline_exceeded_after_the_idle_timeout(client: InventoryClient) -> None:
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        client.products.ImportProducts(_silent_after_one_row(release, "IDLE-1"), timeout=30)
    release.set()
    assert caught.value.reason == "IMPORT_IDLE"
    assert IDLE_TIMEOUT <= time.monotonic() - started < 15
    # Nothing was loaded.
    reply = client.products.ListProducts(pb.ListProductsRequest(filter='sku = "IDLE-1"'))
    assert list(reply.products) == []


def test_forty_rows_with_4_mib_skus_are_rejected_with_a_bounded_echo(
    server: ServerProcess, client: InventoryClient
) -> None:
    huge = "X" * (4 * 1024 * 1024 - 4096)  # just under the message limit, far over the sku limit
    before = _rss_kb(server.process.pid)
    reply = client.products.ImportProducts(
        (pb.ImportProductsRequest(product=pb.Product(sku=huge, name="Huge")) for _ in range(40)), timeout=60
    )
    grown_mb = (_rss_kb(server.process.pid) - before) / 1024
    assert reply.rejected_count == 40
    assert (reply.inserted_count, reply.updated_count) == (0, 0)
    assert reply.ByteSize() < 64 * 1024
    assert all(len(r.sku) <= 80 for r in reply.rejected)
    assert reply.rejected[0].sku.startswith("XXXX")
    assert grown_mb < 100, f"server RSS grew by {grown_mb:.0f} MB"
