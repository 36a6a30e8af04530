"""Identity of a call and the policy's verdict, with fakes for the token verifier and the user roles."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID, uuid4

import pytest

from inventory_server import context
from inventory_server.app import permission_names
from inventory_server.auth.authorizer import UNAUTHENTICATED_MESSAGE, Authorizer
from inventory_server.auth.policy import parse_policy
from inventory_server.auth.tokens import InvalidToken, TokenVerifier
from inventory_server.auth.watched import WatchedFile
from inventory_server.domain.errors import PermissionDenied, Unauthenticated
from inventory_server.services.performers import check_performer

POLICY = """
roles:
  clerk: [inventory.v1.StockService/*]
  viewer: [inventory.v1.StockService/GetStockLevel]
bindings:
  - {principal: till, roles: [clerk], act_for_users: true}
  - {principal: spiffe://shop/orders, roles: [clerk]}
"""
SHIP = "inventory.v1.StockService/ShipStock"


class FakeTokens(TokenVerifier):
    """Tokens are "valid:<sub>"; anything else is invalid."""

    def __init__(self) -> None:
        pass

    def principal(self, token: str) -> str:
        if not token.startswith("valid:"):
            raise InvalidToken("bad")
        return token.removeprefix("valid:")


class FakeUsers:
    def __init__(self, roles: dict[UUID, str]) -> None:
        self.roles = roles
        self.asked: list[UUID] = []

    async def role_of(self, user_id: UUID) -> str | None:
        self.asked.append(user_id)
        return self.roles.get(user_id)


def _authorizer(
    tmp_path: Path, users: FakeUsers | None = None, with_policy: bool = True, with_tokens: bool = True
) -> Authorizer:
    policy = None
    if with_policy:
        (tmp_path / "policy.yaml").write_text(POLICY)
        names = permission_names()
        policy = WatchedFile(tmp_path / "policy.yaml", lambda t: parse_policy(t, names), "policy")
        policy.load()
    tokens = FakeTokens() if with_tokens else None
    return Authorizer(policy=policy, tokens=tokens, users=users or FakeUsers({}))


async def test_no_credentials_under_a_policy_is_unauthenticated(tmp_path: Path) -> None:
    with pytest.raises(Unauthenticated) as raised:
        await _authorizer(tmp_path).identify(None, "")
    assert raised.value.message == UNAUTHENTICATED_MESSAGE


async def test_a_bad_token_is_unauthenticated_even_with_a_certificate(tmp_path: Path) -> None:
    authorizer = _authorizer(tmp_path)
    for token in ("forged", ""):
        with pytest.raises(Unauthenticated):
            await authorizer.identify(token, "spiffe://shop/orders")


async def test_the_token_names_the_principal_over_the_certificate(tmp_path: Path) -> None:
    identity = await _authorizer(tmp_path).identify("valid:till", "spiffe://shop/orders")
    assert identity.principal == "till"
    assert identity.may_act_for_users
    assert identity.acting_user is None


async def test_a_certificate_principal_gets_its_bindings_roles(tmp_path: Path) -> None:
    authorizer = _authorizer(tmp_path)
    identity = await authorizer.identify(None, "spiffe://shop/orders")
    authorizer.authorize(identity, SHIP)
    assert not identity.may_act_for_users
    with pytest.raises(PermissionDenied) as raised:
        authorizer.authorize(identity, "inventory.v1.UserService/ListUsers")
    assert raised.value.metadata == {"method": "inventory.v1.UserService/ListUsers"}


async def test_a_users_token_acts_as_the_user_with_the_policy_role_of_their_role(tmp_path: Path) -> None:
    viewer, clerk = uuid4(), uuid4()
    users = FakeUsers({viewer: "viewer", clerk: "clerk"})
    authorizer = _authorizer(tmp_path, users)
    as_viewer = await authorizer.identify(f"valid:{viewer}", "")
    assert (as_viewer.principal, as_viewer.acting_user, as_viewer.may_act_for_users) == (
        str(viewer),
        viewer,
        False,
    )
    authorizer.authorize(as_viewer, "inventory.v1.StockService/GetStockLevel")
    with pytest.raises(PermissionDenied):
        authorizer.authorize(as_viewer, SHIP)
    authorizer.authorize(await authorizer.identify(f"valid:{clerk}", ""), SHIP)


async def test_a_uuid_that_is_no_active_user_is_just_a_principal(tmp_path: Path) -> None:
    stranger = uuid4()
    identity = await _authorizer(tmp_path).identify(f"valid:{stranger}", "")
    assert identity.acting_user is None
    assert not identity.permissions.allows(SHIP)


async def test_without_a_policy_everything_is_allowed_but_tokens_are_still_checked(tmp_path: Path) -> None:
    authorizer = _authorizer(tmp_path, with_policy=False)
    identity = await authorizer.identify(None, "")
    authorizer.authorize(identity, "inventory.v1.UserService/CreateUser")
    assert identity.may_act_for_users
    with pytest.raises(Unauthenticated):
        await authorizer.identify("forged", "")


def _with_identity(acting: UUID | None, may_act: bool) -> list[object]:
    return [context.acting_user.set(acting), context.may_act_for_users.set(may_act)]


def test_performer_rules() -> None:
    me, other = uuid4(), uuid4()
    tokens = _with_identity(me, False)
    try:
        check_performer(me)
        with pytest.raises(PermissionDenied, match="calling user"):
            check_performer(other)
    finally:
        context.acting_user.reset(tokens[0])  # type: ignore[arg-type]
        context.may_act_for_users.reset(tokens[1])  # type: ignore[arg-type]
    tokens = _with_identity(None, False)
    try:
        with pytest.raises(PermissionDenied, match="act_for_users"):
            check_performer(other)
    finally:
        context.acting_user.reset(tokens[0])  # type: ignore[arg-type]
        context.may_act_for_users.reset(tokens[1])  # type: ignore[arg-type]
    check_performer(other)  # defaults: no policy, anyone may be named


async def test_without_token_settings_a_token_is_refused_under_a_policy_and_ignored_without(
    tmp_path: Path,
) -> None:
    with pytest.raises(Unauthenticated):
        await _authorizer(tmp_path, with_tokens=False).identify("valid:till", "spiffe://shop/orders")
    development = _authorizer(tmp_path, with_policy=False, with_tokens=False)
    identity = await development.identify("anything", "")
    assert identity.principal == ""
