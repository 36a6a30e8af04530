"""One UpdateRules per entity: the servicer's mask, the service's check and the repository's columns agree."""

from __future__ import annotations

import doctest
import uuid
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from inventory_client.v1 import user_pb2
from inventory_server.api.convert import mask_paths
from inventory_server.api.users import update_changes
from inventory_server.domain import updates
from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.product import PRODUCT_UPDATES
from inventory_server.domain.updates import UpdateRules
from inventory_server.domain.user import USER_UPDATES, Role
from inventory_server.domain.warehouse import WAREHOUSE_UPDATES
from inventory_server.repositories.mapping import TableMapping
from inventory_server.repositories.products import PRODUCT_MAPPING
from inventory_server.repositories.users import USER_MAPPING
from inventory_server.repositories.warehouses import WAREHOUSE_MAPPING

PAIRS: list[tuple[UpdateRules, TableMapping[Any]]] = [
    (PRODUCT_UPDATES, PRODUCT_MAPPING),
    (WAREHOUSE_UPDATES, WAREHOUSE_MAPPING),
    (USER_UPDATES, USER_MAPPING),
]
# Fields no update may touch, whatever the entity: immutable keys and output-only fields.
NEVER_UPDATABLE = {"id", "sku", "code", "etag", "version", "create_time", "update_time", "delete_time"}


def test_docstring_examples_hold() -> None:
    assert doctest.testmod(updates).failed == 0


@pytest.mark.parametrize(("rules", "mapping"), PAIRS, ids=lambda x: getattr(x, "resource", ""))
def test_the_repository_allows_exactly_the_columns_of_the_rules(
    rules: UpdateRules, mapping: TableMapping[Any]
) -> None:
    assert mapping.updatable == rules.columns
    assert not rules.updatable & NEVER_UPDATABLE


@pytest.mark.parametrize("rules", [r for r, _ in PAIRS], ids=lambda r: r.resource)
@pytest.mark.parametrize("path", sorted(NEVER_UPDATABLE))
def test_an_immutable_or_output_only_path_is_refused_on_update_mask_by_servicer_and_service(
    rules: UpdateRules, path: str
) -> None:
    with pytest.raises(InvalidArgument) as by_mask:
        mask_paths(FieldMask(paths=[path]), rules)
    with pytest.raises(InvalidArgument) as by_check:
        rules.check({path: "x"})
    for caught in (by_mask, by_check):
        assert [v.field for v in caught.value.violations] == ["update_mask"]
        assert path in caught.value.message


def test_an_empty_mask_stands_for_the_default_fields() -> None:
    assert mask_paths(FieldMask(), PRODUCT_UPDATES) == sorted(PRODUCT_UPDATES.updatable)
    assert mask_paths(FieldMask(), USER_UPDATES) == ["display_name", "email", "role"]


def test_the_user_password_is_checked_with_the_profile_and_stored_as_its_hash() -> None:
    with pytest.raises(InvalidArgument) as caught:
        USER_UPDATES.check({"password": "short", "email": "x", "role": None})
    assert {v.field for v in caught.value.violations} == {"password", "user.email", "user.role"}
    assert "short" not in caught.value.message
    USER_UPDATES.check({"password": "a long enough password", "role": Role.ADMIN})
    assert "password_hash" in USER_UPDATES.columns
    assert "password" not in USER_UPDATES.columns


def test_an_empty_user_mask_adds_the_password_only_when_one_is_sent() -> None:
    user = user_pb2.User(id=str(uuid.uuid4()), email="a@example.com", role=user_pb2.ROLE_CLERK)
    assert sorted(update_changes(user_pb2.UpdateUserRequest(user=user))) == ["display_name", "email", "role"]
    with_password = user_pb2.UpdateUserRequest(user=user, password="a long enough password")
    assert sorted(update_changes(with_password)) == ["display_name", "email", "password", "role"]


def test_rules_refuse_a_default_or_stored_column_for_a_field_they_do_not_allow() -> None:
    with pytest.raises(ValueError, match="not updatable"):
        UpdateRules("thing", frozenset({"name"}), PRODUCT_UPDATES.validate, default=frozenset({"code"}))
    with pytest.raises(ValueError, match="not updatable"):
        UpdateRules("thing", frozenset({"name"}), PRODUCT_UPDATES.validate, stored_as={"secret": "hash"})
