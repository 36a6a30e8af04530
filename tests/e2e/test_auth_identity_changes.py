"""Password and role changes through UpdateUser (issue 10): pseudo-permissions and self-service.

The shipped default policy, except that clerks may call UpdateUser (so the
self-service path is reachable) without holding its #password or #role parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml
from google.protobuf import field_mask_pb2

from inventory_client import InventoryClient, PermissionDeniedError
from inventory_client.v1 import user_pb2

from .auth_helpers import AUDIENCE, ISSUER, Issuer, write_file
from .conftest import ServerProcess, start_server
from .test_auth_roles import DEFAULT_POLICY

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another long passphrase 7"


@dataclass
class World:
    server: ServerProcess
    issuer: Issuer
    users: dict[str, str]

    def client(self, sub: str) -> InventoryClient:
        return InventoryClient(self.server.target, token=self.issuer.token(sub), timeout=10, max_attempts=1)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, database_factory: object, migrated_template: str
) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("identity-changes")
    issuer = Issuer(folder / "jwks.json")
    issuer.new_key("k1")
    issuer.publish("k1")
    policy = yaml.safe_load(DEFAULT_POLICY.read_text())
    policy["roles"]["clerk"].append("inventory.v1.UserService/UpdateUser")
    policy["bindings"] = [{"principal": "ops-admin", "roles": ["admin"]}]
    write_file(folder / "policy.yaml", yaml.safe_dump(policy))
    server = start_server(
        folder,
        {
            "DATABASE_URL": database_factory(template=migrated_template),  # type: ignore[operator]
            "INVENTORY_AUTH_POLICY_FILE": str(folder / "policy.yaml"),
            "INVENTORY_JWT_JWKS_FILE": str(issuer.jwks_file),
            "INVENTORY_JWT_ISSUER": ISSUER,
            "INVENTORY_JWT_AUDIENCE": AUDIENCE,
            "INVENTORY_GRACE_PERIOD": "2",
        },
    )
    world = World(server, issuer, {})
    with world.client("ops-admin") as admin:
        for name in ("clerk", "other"):
            world.users[name] = admin.users.CreateUser(
                user_pb2.CreateUserRequest(
                    user=user_pb2.User(
                        email=f"{name}@example.com", display_name=name, role=user_pb2.ROLE_CLERK
                    ),
                    password=PASSWORD,
                )
            ).user.id
    yield world
    assert server.stop() == 0, server.log()


def _password(user_id: str, new: str, current: str = "") -> user_pb2.UpdateUserRequest:
    return user_pb2.UpdateUserRequest(
        user=user_pb2.User(id=user_id),
        update_mask=field_mask_pb2.FieldMask(paths=["password"]),
        password=new,
        current_password=current,
    )


def _login(world: World, name: str, password: str) -> bool:
    with world.client("ops-admin") as admin:
        try:
            admin.users.AuthenticateUser(
                user_pb2.AuthenticateUserRequest(email=f"{name}@example.com", password=password)
            )
        except Exception:
            return False
        return True


def test_self_service_password_change_needs_the_current_password(world: World) -> None:
    with world.client(world.users["clerk"]) as clerk:
        with pytest.raises(PermissionDeniedError) as raised:
            clerk.users.UpdateUser(_password(world.users["clerk"], NEW_PASSWORD))
        assert raised.value.reason == "CURRENT_PASSWORD_REQUIRED"
        with pytest.raises(PermissionDeniedError) as raised:
            clerk.users.UpdateUser(_password(world.users["clerk"], NEW_PASSWORD, "wrong password 123"))
        assert raised.value.reason == "CURRENT_PASSWORD_WRONG"
        assert _login(world, "clerk", PASSWORD)
        clerk.users.UpdateUser(_password(world.users["clerk"], NEW_PASSWORD, PASSWORD))
    assert _login(world, "clerk", NEW_PASSWORD)
    assert not _login(world, "clerk", PASSWORD)
    assert NEW_PASSWORD not in world.server.log()
    assert PASSWORD not in world.server.log()


def test_a_user_cannot_set_another_users_password_nor_any_role(world: World) -> None:
    with world.client(world.users["clerk"]) as clerk:
        with pytest.raises(PermissionDeniedError) as raised:
            clerk.users.UpdateUser(_password(world.users["other"], NEW_PASSWORD, PASSWORD))
        assert raised.value.reason == "PASSWORD_CHANGE_NOT_ALLOWED"
        for target in ("clerk", "other"):
            with pytest.raises(PermissionDeniedError) as raised:
                clerk.users.UpdateUser(
                    user_pb2.UpdateUserRequest(
                        user=user_pb2.User(id=world.users[target], role=user_pb2.ROLE_ADMIN),
                        update_mask=field_mask_pb2.FieldMask(paths=["role"]),
                    )
                )
            assert raised.value.reason == "ROLE_CHANGE_NOT_ALLOWED"
    assert _login(world, "other", PASSWORD)


def test_an_admin_sets_passwords_and_roles_without_the_current_password(world: World) -> None:
    with world.client("ops-admin") as admin:
        admin.users.UpdateUser(_password(world.users["other"], NEW_PASSWORD))
        changed = admin.users.UpdateUser(
            user_pb2.UpdateUserRequest(
                user=user_pb2.User(id=world.users["other"], role=user_pb2.ROLE_MANAGER),
                update_mask=field_mask_pb2.FieldMask(paths=["role"]),
            )
        ).user
    assert changed.role == user_pb2.ROLE_MANAGER
    assert _login(world, "other", NEW_PASSWORD)
