"""UserRepository on PostgreSQL: case-insensitive emails, roles as text, and where the hash goes."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from inventory_server.domain.errors import AlreadyExists, EtagMismatch, InvalidArgument, NotFound
from inventory_server.domain.paging import ListQuery
from inventory_server.domain.user import NewUser, Role
from inventory_server.repositories.users import UserRepository

Conn = psycopg.AsyncConnection[Any]

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo"
OTHER_HASH = "$argon2id$v=19$m=65536,t=3,p=4$b3RoZXJzYWx0c2FsdA$b3RoZXJoYXNob3RoZXJoYXNob3RoZXI"


async def stored_row(conn: Conn, id: uuid.UUID) -> tuple[str, str, int]:
    cursor = await conn.execute("SELECT role, password_hash, version FROM users WHERE id = %s", [id])
    row = await cursor.fetchone()
    assert row is not None
    return row[0], row[1], row[2]


async def test_create_stores_the_role_as_text_and_the_given_hash(conn: Conn) -> None:
    users = UserRepository(conn)
    created = await users.create(NewUser("Ada@Example.com", Role.MANAGER, "Ada"), HASH)
    assert (created.email, created.display_name, created.role, created.version) == (
        "Ada@Example.com",
        "Ada",
        Role.MANAGER,
        1,
    )
    assert await stored_row(conn, created.id) == ("manager", HASH, 1)
    assert await users.get(created.id) == created
    assert HASH not in repr(created)


async def test_duplicate_email_in_any_case_is_already_exists(conn: Conn) -> None:
    users = UserRepository(conn)
    await users.create(NewUser("ada@example.com", Role.ADMIN), HASH)
    with pytest.raises(AlreadyExists) as caught:
        await users.create(NewUser("ADA@EXAMPLE.COM", Role.VIEWER), HASH)
    assert (caught.value.resource, caught.value.field_name, caught.value.value) == (
        "user",
        "email",
        "ADA@EXAMPLE.COM",
    )
    assert HASH not in caught.value.message


async def test_changing_the_email_to_a_taken_one_is_already_exists(conn: Conn) -> None:
    users = UserRepository(conn)
    await users.create(NewUser("ada@example.com", Role.ADMIN), HASH)
    bob = await users.create(NewUser("bob@example.com", Role.CLERK), HASH)
    with pytest.raises(AlreadyExists):
        await users.update(bob.id, {"email": "Ada@example.com"}, expected_version=None)


async def test_credentials_are_found_by_email_in_any_case_and_only_for_live_users(conn: Conn) -> None:
    users = UserRepository(conn)
    ada = await users.create(NewUser("Ada@Example.com", Role.ADMIN), HASH)
    found = await users.credentials("ada@EXAMPLE.com")
    assert found is not None
    assert (found.user, found.password_hash) == (ada, HASH)
    assert await users.credentials("nobody@example.com") is None
    await users.soft_delete(ada.id, expected_version=None)
    assert await users.credentials("ada@example.com") is None


async def test_update_sets_profile_fields_and_a_new_hash_and_checks_the_etag(conn: Conn) -> None:
    users = UserRepository(conn)
    created = await users.create(NewUser("ada@example.com", Role.ADMIN), HASH)
    updated = await users.update(
        created.id,
        {"role": Role.VIEWER, "display_name": "Countess", "password_hash": OTHER_HASH},
        expected_version=1,
    )
    assert (updated.role, updated.display_name, updated.version) == (Role.VIEWER, "Countess", 2)
    assert await stored_row(conn, created.id) == ("viewer", OTHER_HASH, 2)
    with pytest.raises(EtagMismatch):
        await users.update(created.id, {"display_name": "Lost"}, expected_version=1)
    with pytest.raises(NotFound):
        await users.update(uuid.uuid4(), {"display_name": "x"}, expected_version=None)
    with pytest.raises(InvalidArgument):
        await users.update(created.id, {"id": uuid.uuid4()}, expected_version=None)


async def test_a_rehash_replaces_only_the_expected_hash_and_keeps_the_version(conn: Conn) -> None:
    users = UserRepository(conn)
    created = await users.create(NewUser("ada@example.com", Role.ADMIN), HASH)
    assert not await users.replace_password_hash(created.id, OTHER_HASH, "$argon2id$new")
    assert await users.replace_password_hash(created.id, HASH, OTHER_HASH)
    assert await stored_row(conn, created.id) == ("admin", OTHER_HASH, 1)


async def test_list_filters_by_role_name_and_orders_by_role(conn: Conn) -> None:
    users = UserRepository(conn)
    for email, role in [("a@x.io", Role.VIEWER), ("b@x.io", Role.ADMIN), ("c@x.io", Role.CLERK)]:
        await users.create(NewUser(email, role), HASH)
    admins = await users.list(ListQuery(filter='role = "ADMIN"'))
    assert [u.email for u in admins.items] == ["b@x.io"]
    ordered = await users.list(ListQuery(order_by="role desc"))
    assert [u.role for u in ordered.items] == [Role.VIEWER, Role.CLERK, Role.ADMIN]
    by_email = await users.list(ListQuery(filter='email:"x.io" AND NOT role = viewer', order_by="email"))
    assert [u.email for u in by_email.items] == ["b@x.io", "c@x.io"]


async def test_list_pages_and_hides_deleted_users_unless_asked(conn: Conn) -> None:
    users = UserRepository(conn)
    created = [await users.create(NewUser(f"u{n}@x.io", Role.CLERK), HASH) for n in range(5)]
    await users.soft_delete(created[2].id, expected_version=None)
    first = await users.list(ListQuery(page_size=2, order_by="email"))
    second = await users.list(ListQuery(page_size=2, order_by="email", page_token=first.next_page_token))
    assert [u.email for u in first.items + second.items] == ["u0@x.io", "u1@x.io", "u3@x.io", "u4@x.io"]
    assert second.next_page_token == ""
    everyone = await users.list(ListQuery(show_deleted=True))
    assert len(everyone.items) == 5


@pytest.mark.parametrize("filter", ["password_hash = x", 'password_hash:"argon2"', "role = ROLE_ADMIN"])
async def test_the_hash_is_not_a_list_field(conn: Conn, filter: str) -> None:
    with pytest.raises(InvalidArgument):
        await UserRepository(conn).list(ListQuery(filter=filter))
    with pytest.raises(InvalidArgument):
        await UserRepository(conn).list(ListQuery(order_by="password_hash"))
