"""Products, warehouses and users share one etag scheme and one idea of deleted (domain/versioned.py)."""

from __future__ import annotations

import doctest
import uuid
from datetime import UTC, datetime

import pytest

from inventory_server.domain import versioned
from inventory_server.domain.product import Product
from inventory_server.domain.user import Role, User
from inventory_server.domain.versioned import Versioned, etag_for, version_from_etag
from inventory_server.domain.warehouse import Warehouse

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def entities(version: int, delete_time: datetime | None) -> list[Versioned]:
    return [
        Product(uuid.uuid4(), "SKU", "n", "", 0, "", 0, {}, NOW, NOW, delete_time, version),
        Warehouse(uuid.uuid4(), "W-1", "n", "", NOW, NOW, delete_time, version),
        User(uuid.uuid4(), "a@example.com", "", Role.VIEWER, NOW, NOW, delete_time, version),
    ]


@pytest.mark.parametrize("version", [1, 7, 12345])
def test_every_entity_hands_out_an_etag_that_reads_back_as_its_version(version: int) -> None:
    for entity in entities(version, None):
        assert entity.etag == etag_for(version)
        assert version_from_etag(entity.etag) == version


@pytest.mark.parametrize("foreign", ["", "3", '"3"', 'W/"x"', 'W/"3', 'W/"-1"'])
def test_an_etag_not_made_here_has_no_version(foreign: str) -> None:
    assert version_from_etag(foreign) is None


def test_deleted_follows_delete_time() -> None:
    assert not any(e.deleted for e in entities(1, None))
    assert all(e.deleted for e in entities(1, NOW))


def test_the_entities_stay_slotted() -> None:
    for entity in entities(1, None):
        assert not hasattr(entity, "__dict__")


def test_module_examples_hold() -> None:
    assert doctest.testmod(versioned).failed == 0
