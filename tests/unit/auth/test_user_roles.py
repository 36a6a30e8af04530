"""The user -> role cache behind user tokens: one lookup per user per ttl, deleted users act as nobody."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID, uuid4

from inventory_server.domain.errors import NotFound
from inventory_server.domain.user import Role, User
from inventory_server.services.user_roles import UserRoles
from inventory_server.services.users import UserService


class FakeUsers:
    def __init__(self) -> None:
        self.users: dict[UUID, User] = {}
        self.reads = 0

    async def get(self, id: UUID) -> User:
        self.reads += 1
        if id not in self.users:
            raise NotFound("user", str(id))
        return self.users[id]


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def _user(role: Role) -> User:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "id": uuid4(),
        "email": "u@example.com",
        "display_name": "u",
        "role": role,
        "create_time": now,
        "update_time": now,
        "delete_time": None,
        "version": 1,
    }
    return User(**fields)


def _roles(users: FakeUsers, clock: Clock, **kwargs: Any) -> UserRoles:
    return UserRoles(cast(UserService, users), ttl=5.0, clock=clock, **kwargs)


async def test_a_role_is_read_once_per_ttl_and_a_change_shows_after_it() -> None:
    users, clock = FakeUsers(), Clock()
    user = _user(Role.VIEWER)
    users.users[user.id] = user
    roles = _roles(users, clock)
    assert await roles.role_of(user.id) == "viewer"
    users.users[user.id] = replace(user, role=Role.CLERK)
    clock.now = 4.9
    assert await roles.role_of(user.id) == "viewer"
    assert users.reads == 1
    clock.now = 5.0
    assert await roles.role_of(user.id) == "clerk"
    assert users.reads == 2


async def test_unknown_and_deleted_users_have_no_role_and_the_answer_is_cached_too() -> None:
    users, clock = FakeUsers(), Clock()
    deleted = replace(_user(Role.ADMIN), delete_time=datetime.now(UTC))
    users.users[deleted.id] = deleted
    roles = _roles(users, clock)
    assert await roles.role_of(deleted.id) is None
    stranger = uuid4()
    assert await roles.role_of(stranger) is None
    assert await roles.role_of(stranger) is None
    assert users.reads == 2


async def test_the_cache_is_bounded() -> None:
    users, clock = FakeUsers(), Clock()
    roles = _roles(users, clock, max_entries=3)
    for _ in range(10):
        await roles.role_of(uuid4())
    assert len(roles) == 3
