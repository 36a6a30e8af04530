"""write_once: claim -> replay -> do -> store, inside one write unit (over the in-memory fakes)."""

from __future__ import annotations

from typing import Any

import pytest

from inventory_server.domain.errors import InvalidArgument
from inventory_server.services.idempotency import fingerprint, write_once
from inventory_server.services.unit_of_work import UnitOfWork
from tests.unit.fakes import Fakes, fake_transactor


class Counter:
    """Work that counts its runs and returns the count; replays read the stored count back."""

    def __init__(self) -> None:
        self.runs = 0
        self.fail = False

    async def work(self, uow: UnitOfWork) -> int:
        self.runs += 1
        if self.fail:
            raise LookupError("the work failed")
        return self.runs

    async def once(self, transactor: Fakes, request_id: str, payload: Any = "p") -> int:
        async def replay(uow: UnitOfWork, stored: dict[str, Any]) -> int:
            return int(stored["runs"])

        return await write_once(
            transactor,
            self.work,
            scope="Count",
            request_id=request_id,
            payload=payload,
            encode=lambda runs: {"runs": runs},
            replay=replay,
        )


async def test_a_repeat_replays_the_first_result_without_running_the_work() -> None:
    transactor, counter = fake_transactor(), Counter()
    assert await counter.once(transactor, "r-1") == 1
    assert await counter.once(transactor, "r-1") == 1
    assert counter.runs == 1
    assert transactor.units == ["commit", "commit"]
    assert transactor.db.idempotency_keys[("Count", "r-1")] == (fingerprint("p"), {"runs": 1})


async def test_the_same_request_id_with_another_payload_is_refused() -> None:
    transactor, counter = fake_transactor(), Counter()
    await counter.once(transactor, "r-1", payload={"a": 1})
    with pytest.raises(InvalidArgument) as caught:
        await counter.once(transactor, "r-1", payload={"a": 2})
    assert caught.value.violations[0].field == "request_id"
    assert counter.runs == 1


async def test_without_a_request_id_nothing_is_claimed_and_every_call_runs() -> None:
    transactor, counter = fake_transactor(), Counter()
    assert [await counter.once(transactor, ""), await counter.once(transactor, "")] == [1, 2]
    assert transactor.db.idempotency_keys == {}


async def test_failed_work_rolls_back_its_claim_so_a_retry_runs_it() -> None:
    transactor, counter = fake_transactor(), Counter()
    counter.fail = True
    with pytest.raises(LookupError):
        await counter.once(transactor, "r-1")
    assert transactor.units == ["rollback"]
    assert transactor.db.idempotency_keys == {}
    counter.fail = False
    assert await counter.once(transactor, "r-1") == 2
