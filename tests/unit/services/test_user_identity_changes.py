"""Who may change a password or a role (issue 10): pseudo-permissions and self-service."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory_server import context
from inventory_server.app import permission_names
from inventory_server.auth.policy import parse_policy
from inventory_server.auth.setup import PSEUDO_PERMISSIONS
from inventory_server.domain.errors import PermissionDenied
from inventory_server.domain.user import NewUser, Role, User
from inventory_server.services.passwords import Passwords
from inventory_server.services.users import CHANGE_ROLE_PERMISSION, SET_PASSWORD_PERMISSION, UserService
from tests.unit.fakes import CountingHasher, Fakes, fake_transactor

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase 42"


class OnlyMethods:
    """Permissions granting the listed names exactly (no wildcard, so no pseudo-permission)."""

    def __init__(self, *names: str) -> None:
        self.names = frozenset(names)

    def allows(self, permission: str) -> bool:
        return permission in self.names


UPDATE_ONLY = OnlyMethods("inventory.v1.UserService/UpdateUser")


@pytest.fixture
def transactor() -> Fakes:
    return fake_transactor()


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def service(transactor: Fakes, hasher: CountingHasher) -> UserService:
    return UserService(transactor, Passwords(hasher))


async def _create(service: UserService, email: str = "ada@example.com", role: Role = Role.CLERK) -> User:
    return await service.create(NewUser(email, role, "Ada"), PASSWORD)


def _as(permissions: context.Permissions, acting: User | None) -> None:
    context.permissions.set(permissions)
    context.acting_user.set(acting.id if acting is not None else None)


def test_both_pseudo_permissions_are_registered() -> None:
    assert {SET_PASSWORD_PERMISSION, CHANGE_ROLE_PERMISSION} <= set(PSEUDO_PERMISSIONS)


async def test_self_service_password_change_without_the_current_password_is_refused(
    service: UserService, transactor: Fakes, hasher: CountingHasher
) -> None:
    ada = await _create(service)
    before = transactor.db.password_hashes[ada.id]
    _as(UPDATE_ONLY, ada)
    with pytest.raises(PermissionDenied) as caught:
        await service.update(ada.id, {"password": NEW_PASSWORD}, None)
    assert caught.value.metadata["field"] == "current_password"
    with pytest.raises(PermissionDenied) as caught:
        await service.update(ada.id, {"password": NEW_PASSWORD}, None, current_password="not the password 1")
    assert caught.value.reason == "CURRENT_PASSWORD_WRONG"
    assert NEW_PASSWORD not in caught.value.message
    assert "not the password" not in caught.value.message
    assert transactor.db.password_hashes[ada.id] == before


async def test_self_service_password_change_with_the_current_password_succeeds(
    service: UserService, transactor: Fakes, hasher: CountingHasher
) -> None:
    ada = await _create(service)
    _as(UPDATE_ONLY, ada)
    await service.update(ada.id, {"password": NEW_PASSWORD}, None, current_password=PASSWORD)
    assert hasher.verify(transactor.db.password_hashes[ada.id], NEW_PASSWORD)


async def test_another_users_password_needs_the_password_permission(
    service: UserService, transactor: Fakes, hasher: CountingHasher
) -> None:
    ada = await _create(service)
    bob = await _create(service, "bob@example.com")
    _as(UPDATE_ONLY, bob)
    with pytest.raises(PermissionDenied) as caught:
        # Even knowing Ada's password, Bob's token may not set it.
        await service.update(ada.id, {"password": NEW_PASSWORD}, None, current_password=PASSWORD)
    assert caught.value.reason == "PASSWORD_CHANGE_NOT_ALLOWED"
    _as(UPDATE_ONLY, None)  # a service principal without the pseudo-permission
    with pytest.raises(PermissionDenied):
        await service.update(ada.id, {"password": NEW_PASSWORD}, None)
    _as(OnlyMethods(SET_PASSWORD_PERMISSION), None)
    await service.update(ada.id, {"password": NEW_PASSWORD}, None)
    assert hasher.verify(transactor.db.password_hashes[ada.id], NEW_PASSWORD)


async def test_clerk_cannot_change_roles_but_admin_can(service: UserService) -> None:
    policy = parse_policy(
        (ROOT / "deploy" / "auth" / "policy.yaml").read_text(), (*permission_names(), *PSEUDO_PERMISSIONS)
    )
    ada = await _create(service)
    _as(policy.grants("u", ["clerk"]), ada)
    with pytest.raises(PermissionDenied) as caught:
        await service.update(ada.id, {"role": Role.ADMIN}, None)
    assert caught.value.reason == "ROLE_CHANGE_NOT_ALLOWED"
    assert (await service.get(ada.id)).role == Role.CLERK
    _as(policy.grants("u", ["admin"]), None)
    assert (await service.update(ada.id, {"role": Role.MANAGER}, None)).role == Role.MANAGER
    # The default policy grants the user-changing pseudo-permissions to admin only.
    for role in ("viewer", "clerk", "manager"):
        grants = policy.grants("u", [role])
        assert not grants.allows(CHANGE_ROLE_PERMISSION)
        assert not grants.allows(SET_PASSWORD_PERMISSION)
