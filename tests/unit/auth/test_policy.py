"""The policy file: what it grants, and everything it refuses to load."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory_server.app import permission_names
from inventory_server.auth.policy import PolicyError, parse_policy, permission_grants

METHODS = permission_names()
DEFAULT = Path(__file__).resolve().parents[3] / "deploy" / "auth" / "policy.yaml"

ISSUE_EXAMPLE = """
roles:
  catalogue-reader:
    - inventory.v1.ProductService/GetProduct
    - inventory.v1.ProductService/ListProducts
  stock-clerk:
    - inventory.v1.StockService/*
  admin:
    - "*"
bindings:
  - principal: "spiffe://shop.example/ns/orders/sa/orders"
    roles: [stock-clerk]
  - principal: "reporting"
    roles: [catalogue-reader]
"""


def test_the_issues_example_grants_what_it_says() -> None:
    policy = parse_policy(ISSUE_EXAMPLE, METHODS)
    orders = policy.grants("spiffe://shop.example/ns/orders/sa/orders")
    assert orders.allows("inventory.v1.StockService/ShipStock")
    assert not orders.allows("inventory.v1.ProductService/GetProduct")
    reporting = policy.grants("reporting")
    assert reporting.allows("inventory.v1.ProductService/ListProducts")
    assert not reporting.allows("inventory.v1.ProductService/CreateProduct")
    assert not policy.grants("stranger").allows("inventory.v1.ProductService/GetProduct")
    assert not policy.may_act_for_users("reporting")


def test_wildcards_cover_their_service_and_pseudo_permissions_only() -> None:
    assert permission_grants("*", "anything/At#all")
    assert permission_grants("inventory.v1.UserService/*", "inventory.v1.UserService/UpdateUser#role")
    assert not permission_grants("inventory.v1.UserService/*", "inventory.v1.UserServiceX/GetUser")
    assert not permission_grants(
        "inventory.v1.UserService/UpdateUser", "inventory.v1.UserService/UpdateUser#role"
    )


def test_a_users_own_role_adds_the_policy_role_of_that_name() -> None:
    policy = parse_policy(DEFAULT.read_text(), METHODS)
    user = "2b1f3a64-0000-4000-8000-000000000001"
    assert policy.grants(user, ["viewer"]).allows("inventory.v1.StockService/ListStockLevels")
    assert not policy.grants(user, ["viewer"]).allows("inventory.v1.StockService/ShipStock")
    assert not policy.grants(user, ["no-such-role"]).allows("inventory.v1.StockService/ListStockLevels")


def test_act_for_users_is_off_unless_the_binding_says_true() -> None:
    text = """
roles: {clerk: [inventory.v1.StockService/*]}
bindings:
  - {principal: till, roles: [clerk], act_for_users: true}
  - {principal: orders, roles: [clerk]}
"""
    policy = parse_policy(text, METHODS)
    assert policy.may_act_for_users("till")
    assert not policy.may_act_for_users("orders")
    assert not policy.may_act_for_users("nobody")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("roles: {}\nbindings: []\nextra: 1\n", "unknown key(s) extra"),
        ("roles: {r: [inventory.v1.ProductService/GetProducts]}\n", "unknown method"),
        ("roles: {r: [inventory.v1.NoService/*]}\n", "unknown service"),
        ("roles: {r: [GetProduct]}\n", "unknown method"),
        ("roles: {r: inventory.v1.ProductService/GetProduct}\n", "must be a list"),
        ("roles: {r: []}\nbindings: [{principal: p, roles: [s]}]\n", "undefined role(s) s"),
        (
            "roles: {r: []}\nbindings: [{principal: p, roles: [r], act_for_users: yes-please}]\n",
            "true or false",
        ),
        ("roles: {r: []}\nbindings: [{principal: p, role: [r]}]\n", "unknown key(s) role"),
        (
            "roles: {r: []}\nbindings: [{principal: p, roles: [r]}, {principal: p, roles: [r]}]\n",
            "bound twice",
        ),
        ("roles: {r: []}\nbindings: [{roles: [r]}]\n", "principal: must be a non-empty string"),
        ("roles: [a, b]\n", "roles: must be a mapping"),
        ("- just a list\n", "must be a mapping"),
        ("roles: {r: [\n", "not valid YAML"),
    ],
)
def test_anything_not_understood_is_refused_at_load_time(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, METHODS)
    assert message in str(raised.value)


def test_the_shipped_default_policy_loads_and_matches_the_role_comments_of_the_proto() -> None:
    policy = parse_policy(DEFAULT.read_text(), METHODS)
    reads = [
        m
        for m in METHODS
        if m.startswith("inventory.v1.") and m.split("/")[1].startswith(("Get", "List", "BatchGet", "Watch"))
    ]
    # Users, Stats and the audit log are admin reads.
    non_user_reads = [
        m for m in reads if "UserService" not in m and "StatsService" not in m and "AuditService" not in m
    ]
    movements = [
        f"inventory.v1.StockService/{name}"
        for name in (
            "ReceiveStock",
            "ShipStock",
            "TransferStock",
            "AdjustStock",
            "ReserveStock",
            "ReleaseReservation",
        )
    ]
    catalogue = [
        m for m in METHODS if m.startswith(("inventory.v1.ProductService/", "inventory.v1.WarehouseService/"))
    ]
    users = [m for m in METHODS if m.startswith("inventory.v1.UserService/")]
    grants = {role: policy.grants("user", [role]) for role in ("viewer", "clerk", "manager", "admin")}
    for method in non_user_reads:
        assert all(g.allows(method) for g in grants.values()), method
    for method in movements:
        assert [r for r, g in grants.items() if g.allows(method)] == ["clerk", "manager", "admin"], method
    for method in catalogue:
        assert grants["manager"].allows(method), method
    for method in [m for m in catalogue if m not in non_user_reads]:
        assert not grants["clerk"].allows(method), method
    for method in users:
        assert [r for r, g in grants.items() if g.allows(method)] == ["admin"], method
    assert all(grants["admin"].allows(m) for m in METHODS)
    assert policy.bindings == {}
