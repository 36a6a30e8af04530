"""UserService end to end: real server, real PostgreSQL, the client package.

The server logs at DEBUG here, so that the check for leaked hashes reads
everything the server could have written.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable

import psycopg
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from inventory_client import (
    AbortedError,
    AlreadyExistsError,
    InvalidArgumentError,
    InventoryClient,
    InventoryError,
    NotFoundError,
    UnauthenticatedError,
)
from inventory_client.v1 import stats_pb2
from inventory_client.v1 import user_pb2 as pb

from .conftest import ServerProcess

PASSWORD = "correct horse battery staple"


@pytest.fixture
def server_env() -> dict[str, str]:
    return {
        "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
        "INVENTORY_GRACE_PERIOD": "5",
        "INVENTORY_LOG_LEVEL": "DEBUG",
        # The timing test fails the same account 7 times; throttling has its own tests.
        "INVENTORY_LOGIN_MAX_FAILURES": "50",
    }


def create(
    client: InventoryClient,
    email: str,
    role: pb.Role.ValueType = pb.ROLE_CLERK,
    password: str = PASSWORD,
    display_name: str = "",
) -> pb.User:
    request = pb.CreateUserRequest(
        user=pb.User(email=email, role=role, display_name=display_name), password=password
    )
    return client.users.CreateUser(request).user


def login(client: InventoryClient, email: str, password: str = PASSWORD) -> pb.User:
    return client.users.AuthenticateUser(pb.AuthenticateUserRequest(email=email, password=password)).user


def test_create_then_get_returns_the_same_user(client: InventoryClient) -> None:
    created = create(client, "Ada@Example.com", pb.ROLE_ADMIN, display_name="Ada")
    assert uuid.UUID(created.id)
    assert (created.email, created.display_name, created.role, created.etag) == (
        "Ada@Example.com",
        "Ada",
        pb.ROLE_ADMIN,
        'W/"1"',
    )
    assert client.users.GetUser(pb.GetUserRequest(id=created.id)).user == created


def test_the_password_is_stored_only_as_an_argon2id_hash(client: InventoryClient, migrated_dsn: str) -> None:
    created = create(client, "ada@example.com")
    with psycopg.connect(migrated_dsn) as conn:
        row = conn.execute("SELECT password_hash FROM users WHERE id = %s", [created.id]).fetchone()
    assert row is not None
    assert row[0].startswith("$argon2id$")
    assert PASSWORD not in row[0]


def test_duplicate_email_is_already_exists_case_insensitively(client: InventoryClient) -> None:
    create(client, "ada@example.com")
    with pytest.raises(AlreadyExistsError) as caught:
        create(client, "ADA@example.COM")
    assert caught.value.metadata == {"resource": "user", "field": "email"}


def test_invalid_user_names_every_bad_field_without_echoing_the_password(client: InventoryClient) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        create(client, "not an email", pb.ROLE_UNSPECIFIED, password="short-pw")
    assert {v.field for v in caught.value.field_violations} == {"user.email", "user.role", "password"}
    assert "short-pw" not in str(caught.value) + repr(caught.value.field_violations)
    with pytest.raises(InvalidArgumentError) as too_long:
        create(client, "ada@example.com", password="p" * 1025)
    assert [v.field for v in too_long.value.field_violations] == ["password"]


def test_unknown_id_is_not_found_and_malformed_id_is_invalid_argument(client: InventoryClient) -> None:
    with pytest.raises(NotFoundError):
        client.users.GetUser(pb.GetUserRequest(id=str(uuid.uuid4())))
    with pytest.raises(NotFoundError):
        client.users.DeleteUser(pb.DeleteUserRequest(id=str(uuid.uuid4())))
    with pytest.raises(InvalidArgumentError) as caught:
        client.users.GetUser(pb.GetUserRequest(id="nope"))
    assert caught.value.field_violations[0].field == "id"


def test_create_with_the_same_request_id_returns_the_first_result(client: InventoryClient) -> None:
    request = pb.CreateUserRequest(
        user=pb.User(email="once@example.com", role=pb.ROLE_VIEWER),
        password=PASSWORD,
        request_id="user-req-1",
    )
    first = client.users.CreateUser(request).user
    assert client.users.CreateUser(request).user == first
    listed = client.users.ListUsers(pb.ListUsersRequest(filter='email = "once@example.com"')).users
    assert [u.id for u in listed] == [first.id]


def test_a_retry_with_the_same_request_id_but_another_password_is_refused(client: InventoryClient) -> None:
    request = pb.CreateUserRequest(
        user=pb.User(email="twice@example.com", role=pb.ROLE_VIEWER),
        password=PASSWORD,
        request_id="user-req-2",
    )
    first = client.users.CreateUser(request).user
    other = pb.CreateUserRequest()
    other.CopyFrom(request)
    other.password = "a-different-password-entirely"
    with pytest.raises(InvalidArgumentError) as caught:
        client.users.CreateUser(other)
    assert [v.field for v in caught.value.field_violations] == ["request_id"]
    # The first password is the one that counts, and the same request still replays.
    assert client.users.CreateUser(request).user == first
    login = client.users.AuthenticateUser(
        pb.AuthenticateUserRequest(email="twice@example.com", password=PASSWORD)
    )
    assert login.user.id == first.id


def test_list_pages_filters_by_role_and_hides_deleted_users(client: InventoryClient) -> None:
    roles = [pb.ROLE_VIEWER, pb.ROLE_CLERK, pb.ROLE_MANAGER, pb.ROLE_ADMIN, pb.ROLE_ADMIN]
    users = [create(client, f"user{n}@example.com", role) for n, role in enumerate(roles)]
    seen: list[str] = []
    token = ""
    while True:
        reply = client.users.ListUsers(pb.ListUsersRequest(page_size=2, page_token=token, order_by="email"))
        seen += [u.email for u in reply.users]
        token = reply.next_page_token
        if not token:
            break
    assert seen == [u.email for u in users]
    admins = client.users.ListUsers(pb.ListUsersRequest(filter="role = admin")).users
    assert {u.id for u in admins} == {users[3].id, users[4].id}
    client.users.DeleteUser(pb.DeleteUserRequest(id=users[4].id))
    assert [u.id for u in client.users.ListUsers(pb.ListUsersRequest(filter='role = "ADMIN"')).users] == [
        users[3].id
    ]
    shown = client.users.ListUsers(pb.ListUsersRequest(filter="role = admin", show_deleted=True)).users
    assert len(shown) == 2
    for bad in ("role = ROLE_ADMIN", "password_hash = x", 'email = "a" AND'):
        with pytest.raises(InvalidArgumentError):
            client.users.ListUsers(pb.ListUsersRequest(filter=bad))


def test_update_with_mask_changes_only_named_fields(client: InventoryClient) -> None:
    user = create(client, "ada@example.com", pb.ROLE_CLERK, display_name="Ada")
    change = pb.User(id=user.id, display_name="Countess", role=pb.ROLE_ADMIN, etag=user.etag)
    updated = client.users.UpdateUser(
        pb.UpdateUserRequest(user=change, update_mask=FieldMask(paths=["display_name"]))
    ).user
    assert (updated.display_name, updated.role, updated.email) == (
        "Countess",
        pb.ROLE_CLERK,
        "ada@example.com",
    )
    assert updated.etag != user.etag


def test_update_with_a_stale_etag_is_aborted(client: InventoryClient) -> None:
    user = create(client, "ada@example.com")
    mask = FieldMask(paths=["display_name"])
    client.users.UpdateUser(
        pb.UpdateUserRequest(user=pb.User(id=user.id, display_name="one", etag=user.etag), update_mask=mask)
    )
    with pytest.raises(AbortedError):
        client.users.UpdateUser(
            pb.UpdateUserRequest(
                user=pb.User(id=user.id, display_name="two", etag=user.etag), update_mask=mask
            )
        )
    with pytest.raises(AbortedError):
        client.users.DeleteUser(pb.DeleteUserRequest(id=user.id, etag=user.etag))


def test_update_refuses_output_only_fields_an_unspecified_role_and_a_taken_email(
    client: InventoryClient,
) -> None:
    create(client, "taken@example.com")
    user = create(client, "ada@example.com")
    for paths, field in ((["id"], "update_mask"), (["role"], "user.role"), (["password"], "password")):
        with pytest.raises(InvalidArgumentError) as caught:
            client.users.UpdateUser(
                pb.UpdateUserRequest(user=pb.User(id=user.id), update_mask=FieldMask(paths=paths))
            )
        assert caught.value.field_violations[0].field == field
    with pytest.raises(AlreadyExistsError):
        client.users.UpdateUser(
            pb.UpdateUserRequest(
                user=pb.User(id=user.id, email="TAKEN@example.com"), update_mask=FieldMask(paths=["email"])
            )
        )


def test_a_new_password_replaces_the_old_one(client: InventoryClient) -> None:
    user = create(client, "ada@example.com")
    client.users.UpdateUser(
        pb.UpdateUserRequest(
            user=pb.User(id=user.id),
            update_mask=FieldMask(paths=["password"]),
            password="a brand new password",
        )
    )
    assert login(client, "ada@example.com", "a brand new password").id == user.id
    with pytest.raises(UnauthenticatedError):
        login(client, "ada@example.com", PASSWORD)


def test_login_succeeds_with_the_right_password_in_any_email_case(client: InventoryClient) -> None:
    user = create(client, "Ada@Example.com", pb.ROLE_MANAGER)
    assert login(client, "ada@example.COM") == user
    assert login(client, "  ada@example.com ") == user


def test_every_failed_login_is_unauthenticated_with_the_same_message(client: InventoryClient) -> None:
    create(client, "ada@example.com")
    deleted = create(client, "gone@example.com")
    client.users.DeleteUser(pb.DeleteUserRequest(id=deleted.id))
    errors: list[InventoryError] = []
    for email, password in [
        ("ada@example.com", "wrong password!"),
        ("nobody@example.com", PASSWORD),
        ("gone@example.com", PASSWORD),
    ]:
        with pytest.raises(UnauthenticatedError) as caught:
            login(client, email, password)
        errors.append(caught.value)
    assert len({(e.message, e.reason, tuple(e.metadata.items())) for e in errors}) == 1
    assert all("nobody" not in e.message and "ada" not in e.message for e in errors)
    with pytest.raises(InvalidArgumentError):
        login(client, "", PASSWORD)


def test_an_unknown_email_takes_about_as_long_as_a_wrong_password(client: InventoryClient) -> None:
    create(client, "ada@example.com")
    known: list[float] = []
    unknown: list[float] = []
    for round_ in range(7):  # interleaved, so load on the machine affects both alike
        for email, times in (("ada@example.com", known), (f"nobody{round_}@example.com", unknown)):
            started = time.perf_counter()
            with pytest.raises(UnauthenticatedError):
                login(client, email, "wrong password!")
            times.append(time.perf_counter() - started)
    # Without the dummy verification an unknown email answers ~20x faster (no argon2 at all).
    assert statistics.median(unknown) > 0.5 * statistics.median(known)


def test_no_response_error_or_log_line_contains_a_password_hash(
    client: InventoryClient, server: ServerProcess
) -> None:
    user = create(client, "ada@example.com", pb.ROLE_ADMIN)
    replies: list[bytes] = [
        client.users.GetUser(pb.GetUserRequest(id=user.id)).SerializeToString(),
        client.users.ListUsers(pb.ListUsersRequest(show_deleted=True)).SerializeToString(),
        client.users.AuthenticateUser(
            pb.AuthenticateUserRequest(email="ada@example.com", password=PASSWORD)
        ).SerializeToString(),
        client.users.UpdateUser(
            pb.UpdateUserRequest(
                user=pb.User(id=user.id), update_mask=FieldMask(paths=["password"]), password=PASSWORD * 2
            )
        ).SerializeToString(),
        client.users.DeleteUser(pb.DeleteUserRequest(id=user.id)).SerializeToString(),
        client.stats.GetStats(stats_pb2.GetStatsRequest()).SerializeToString(),
    ]
    failing_calls: list[Callable[[], pb.User]] = [
        lambda: create(client, "ADA@example.com"),
        lambda: login(client, "ada@example.com"),
        lambda: create(client, "x@example.com", password="short"),
    ]
    failures: list[str] = []
    for call in failing_calls:
        with pytest.raises(InventoryError) as caught:
            call()
        failures.append(repr(caught.value))
    assert all(b"$argon2" not in reply and b"argon2" not in reply for reply in replies)
    assert all("argon2" not in text for text in failures)
    log = server.log()
    assert "argon2" not in log
    assert PASSWORD not in log
