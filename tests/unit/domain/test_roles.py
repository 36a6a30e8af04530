"""Roles: the proto enum, the domain enum and the database's CHECK list agree; how List filters them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inventory_client.v1 import user_pb2 as pb
from inventory_server.api.users import ROLE_FROM_PROTO, ROLE_TO_PROTO, role_from_proto
from inventory_server.db.listing import parse_filter
from inventory_server.db.query import Params
from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.user import Role
from inventory_server.repositories.users import USER_LIST_FIELDS

MIGRATION = Path(__file__).resolve().parents[3] / "migrations" / "0002_users.sql"


def test_every_domain_role_maps_to_a_proto_role_and_back() -> None:
    assert set(ROLE_TO_PROTO) == set(Role)
    for role in Role:
        assert role_from_proto(ROLE_TO_PROTO[role]) is role


def test_every_proto_role_except_unspecified_has_a_domain_role() -> None:
    named = {value for name, value in pb.Role.items() if name != "ROLE_UNSPECIFIED"}
    assert set(ROLE_FROM_PROTO) == named
    assert {pb.Role.Name(ROLE_TO_PROTO[r]) for r in Role} == {f"ROLE_{r.name}" for r in Role}


@pytest.mark.parametrize("value", [pb.ROLE_UNSPECIFIED, 99, -1])
def test_unspecified_or_unknown_proto_roles_have_no_domain_role(value: int) -> None:
    assert role_from_proto(value) is None


def test_domain_roles_are_exactly_what_the_database_accepts() -> None:
    check = re.search(r"role IN \(([^)]*)\)", MIGRATION.read_text())
    assert check is not None
    allowed = {name.strip().strip("'") for name in check.group(1).split(",")}
    assert {r.value for r in Role} == allowed


@pytest.mark.parametrize("text", ["role = admin", 'role = "admin"', "role = ADMIN", 'role != "Admin"'])
def test_role_filters_take_the_stored_role_names_in_any_case(text: str) -> None:
    condition = parse_filter(text, USER_LIST_FIELDS)
    assert condition is not None
    params = Params()
    condition.compile(params)
    assert params.values == ["admin"]


@pytest.mark.parametrize("text", ["role = ROLE_ADMIN", "role = owner", "role > admin", "password_hash = x"])
def test_proto_enum_names_unknown_roles_and_unlisted_fields_are_refused(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_filter(text, USER_LIST_FIELDS)
    assert caught.value.violations[0].field == "filter"
