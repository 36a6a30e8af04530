"""Warehouse validation rules: codes, names, addresses and what may change."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from inventory_server.domain.errors import ErrorDetails, InvalidArgument
from inventory_server.domain.warehouse import UPDATABLE_FIELDS, NewWarehouse, Warehouse, validate_changes


@pytest.mark.parametrize("code", ["W", "BER-1", "wh_02.north", "A" * 64, "9"])
def test_codes_of_letters_digits_dots_dashes_and_underscores_are_accepted(code: str) -> None:
    NewWarehouse(code, "Main").validate()


@pytest.mark.parametrize("code", ["", " BER", "-BER", "BER 1", "BER/1", "A" * 65, "BÉR", "BER\n"])
def test_malformed_codes_are_refused_on_the_code_field(code: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        NewWarehouse(code, "Main").validate()
    assert [v.field for v in caught.value.violations] == ["warehouse.code"]


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(InvalidArgument) as caught:
        NewWarehouse("", "   ", "x" * 1001).validate()
    assert {v.field for v in caught.value.violations} == {
        "warehouse.code",
        "warehouse.name",
        "warehouse.address",
    }


def test_name_may_be_200_characters_and_address_1000() -> None:
    NewWarehouse("W1", "n" * 200, "a" * 1000).validate()
    with pytest.raises(InvalidArgument):
        NewWarehouse("W1", "n" * 201).validate()


def test_change_validation_checks_only_the_fields_present() -> None:
    errors = ErrorDetails()
    validate_changes({"address": "Somewhere 1"}, errors)
    assert errors.violations == []
    validate_changes({"name": ""}, errors)
    assert [v.field for v in errors.violations] == ["warehouse.name"]


def test_only_name_and_address_are_updatable() -> None:
    assert frozenset({"name", "address"}) == UPDATABLE_FIELDS


def test_etag_follows_the_version_and_deleted_follows_delete_time() -> None:
    moment = datetime.now(UTC)
    live = Warehouse(uuid4(), "W1", "Main", "", moment, moment, None, 3)
    assert live.etag == 'W/"3"'
    assert not live.deleted
    gone = Warehouse(uuid4(), "W1", "Main", "", moment, moment, moment, 4)
    assert gone.deleted
