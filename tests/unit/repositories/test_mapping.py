"""TableMapping: columns come from the entity; descriptions repositories cannot work with are refused."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest

from inventory_server.db.listing import FieldSpec, ResourceFields
from inventory_server.domain.product import Product
from inventory_server.domain.user import Role, User
from inventory_server.repositories.base import BaseRepository
from inventory_server.repositories.mapping import TableMapping, entity_columns
from inventory_server.repositories.products import PRODUCT_MAPPING
from inventory_server.repositories.transactions import TRANSACTION_MAPPING
from inventory_server.repositories.users import PASSWORD_HASH, USER_MAPPING

FIELDS = ResourceFields("things", (FieldSpec("name", "name", "text", sortable=True),))


@dataclasses.dataclass(frozen=True)
class Bare:
    id: uuid.UUID
    name: str


@dataclasses.dataclass(frozen=True)
class Thing:
    id: uuid.UUID
    name: str
    update_time: datetime
    delete_time: datetime | None
    version: int


def test_mapping_needs_its_bookkeeping_columns() -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        TableMapping("things", "thing", Bare, FIELDS)


def test_mapping_and_list_fields_must_agree_on_soft_delete() -> None:
    with pytest.raises(ValueError, match="soft delete"):
        TableMapping("things", "thing", Thing, FIELDS, soft_delete_column=None)


def test_mapping_refuses_conversions_of_columns_it_does_not_have() -> None:
    with pytest.raises(ValueError, match="unknown columns"):
        TableMapping("things", "thing", Thing, FIELDS, convert={"colour": str})


def test_a_repository_that_writes_needs_a_version_column() -> None:
    with pytest.raises(TypeError, match="version"):

        class _Ledger(BaseRepository[object]):
            mapping = TRANSACTION_MAPPING  # type: ignore[assignment]


def test_product_mapping_reads_every_product_field() -> None:
    assert PRODUCT_MAPPING.columns == entity_columns(Product)
    row = {name: name for name in PRODUCT_MAPPING.columns}
    product = PRODUCT_MAPPING.from_row(row)
    assert product.sku == "sku"
    assert product.attributes == "attributes"  # type: ignore[comparison-overlap]
    assert PRODUCT_MAPPING.updatable >= {"name", "attributes"}
    assert "sku" not in PRODUCT_MAPPING.updatable


def test_user_mapping_converts_the_role_and_never_reads_the_password_hash() -> None:
    assert PASSWORD_HASH not in USER_MAPPING.columns
    now = datetime(2026, 1, 1, tzinfo=UTC)
    row = {"id": uuid.uuid4(), "email": "a@example.com", "display_name": "", "role": "admin"}
    row |= {"create_time": now, "update_time": now, "delete_time": None, "version": 1, PASSWORD_HASH: "x"}
    user = USER_MAPPING.from_row(row)
    assert isinstance(user, User)
    assert user.role is Role.ADMIN
