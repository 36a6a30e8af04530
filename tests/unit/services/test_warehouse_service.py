"""WarehouseService over in-memory fakes: validation before I/O, idempotent create, transactions."""

from __future__ import annotations

from uuid import UUID

import pytest

from inventory_server.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from inventory_server.domain.stock import LevelKey, StockLevel
from inventory_server.domain.warehouse import NewWarehouse
from inventory_server.services.warehouses import WarehouseService
from tests.unit.fakes import Fakes, fake_transactor


@pytest.fixture
def transactor() -> Fakes:
    return fake_transactor()


@pytest.fixture
def service(transactor: Fakes) -> WarehouseService:
    return WarehouseService(transactor)


async def test_create_commits_and_get_reads_without_a_transaction(
    service: WarehouseService, transactor: Fakes
) -> None:
    created = await service.create(NewWarehouse("BER-1", "Berlin"))
    assert await service.get(created.id) == created
    assert transactor.units == ["commit", "read"]


async def test_invalid_warehouse_is_refused_before_any_database_work(
    service: WarehouseService, transactor: Fakes
) -> None:
    with pytest.raises(InvalidArgument):
        await service.create(NewWarehouse("bad code", "Berlin"))
    assert transactor.units == []


async def test_same_request_id_returns_the_first_warehouse_and_creates_nothing_more(
    service: WarehouseService, transactor: Fakes
) -> None:
    first = await service.create(NewWarehouse("BER-1", "Berlin"), request_id="r-1")
    again = await service.create(NewWarehouse("BER-1", "Berlin"), request_id="r-1")
    assert again == first
    assert len(transactor.db.warehouses) == 1


async def test_same_request_id_with_other_content_is_invalid_argument(service: WarehouseService) -> None:
    await service.create(NewWarehouse("BER-1", "Berlin"), request_id="r-1")
    with pytest.raises(InvalidArgument) as caught:
        await service.create(NewWarehouse("HAM-1", "Hamburg"), request_id="r-1")
    assert caught.value.violations[0].field == "request_id"


async def test_without_request_id_a_repeat_is_a_duplicate_code(service: WarehouseService) -> None:
    await service.create(NewWarehouse("BER-1", "Berlin"))
    with pytest.raises(AlreadyExists):
        await service.create(NewWarehouse("ber-1", "Berlin again"))


async def test_update_refuses_the_immutable_code_without_touching_the_database(
    service: WarehouseService, transactor: Fakes
) -> None:
    created = await service.create(NewWarehouse("BER-1", "Berlin"))
    with pytest.raises(InvalidArgument) as caught:
        await service.update(created.id, {"code": "HAM-1"}, None)
    assert caught.value.violations[0].field == "update_mask"
    with pytest.raises(InvalidArgument) as blank:
        await service.update(created.id, {"name": " "}, None)
    assert blank.value.violations[0].field == "warehouse.name"
    assert len(transactor.units) == 1


async def test_update_changes_name_and_address(service: WarehouseService) -> None:
    created = await service.create(NewWarehouse("BER-1", "Berlin"))
    updated = await service.update(created.id, {"name": "Berlin Nord", "address": "Str. 1"}, 1)
    assert (updated.name, updated.address, updated.code, updated.version) == (
        "Berlin Nord",
        "Str. 1",
        "BER-1",
        2,
    )


async def test_delete_of_a_warehouse_holding_stock_names_it_in_the_precondition(
    service: WarehouseService, transactor: Fakes
) -> None:
    created = await service.create(NewWarehouse("BER-1", "Berlin"))
    product = transactor.db.add("product")
    transactor.db.levels[LevelKey(created.id, product)] = StockLevel(product, created.id, on_hand=1)
    with pytest.raises(FailedPrecondition) as caught:
        await service.delete(created.id, None)
    violation = caught.value.violations[0]
    assert (violation.type, violation.subject) == ("STOCK", f"warehouses/{created.id}")
    assert violation.description


async def test_delete_of_an_unknown_warehouse_is_not_found(service: WarehouseService) -> None:
    with pytest.raises(NotFound):
        await service.delete(UUID(int=1), None)
