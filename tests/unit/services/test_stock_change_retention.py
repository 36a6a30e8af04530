"""The change-position purger over the shared fakes: batch by batch, and the horizon moves with it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from inventory_server.domain.stock_changes import StreamBounds
from inventory_server.services import stock_change_retention
from inventory_server.services.stock_change_retention import StockChangePurger
from tests.unit.fakes import FakeDatabase, FakeStockChanges, fake_transactor


async def test_positions_past_retention_are_purged_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    db = FakeDatabase()
    changes = FakeStockChanges(db)
    changes.commit(3)  # committed at fake-clock ticks 1..3 ms
    db.ticks += 1_000
    changes.commit(2)  # a second later
    monkeypatch.setattr(stock_change_retention, "PURGE_BATCH", 2)
    transactor = fake_transactor(db)
    purger = StockChangePurger(transactor, retention=timedelta(milliseconds=500), interval=60)

    assert await purger.run_once() == 3
    assert transactor.units == ["commit", "commit"]  # a full batch of 2, then the last 1
    assert [c.position for c in db.stock_changes] == [4, 5]
    assert await changes.bounds() == StreamBounds(purged_through=3, latest=5)
    assert await purger.run_once() == 0
    assert purger.purged == 3
