"""User rules: emails, roles, display names, the password policy, and no secret in a User."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from inventory_server.domain.errors import ErrorDetails, InvalidArgument
from inventory_server.domain.user import (
    UPDATABLE_FIELDS,
    NewUser,
    Role,
    StoredCredentials,
    User,
    email_problem,
    password_problem,
    validate_changes,
)

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo"


def a_user(**changes: object) -> User:
    moment = datetime.now(UTC)
    user = User(uuid4(), "ada@example.com", "Ada", Role.ADMIN, moment, moment, None, 1)
    return dataclasses.replace(user, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "email", ["a@b.de", "ada.lovelace+stock@example.co.uk", "ADA@EXAMPLE.COM", "x@" + "d" * 60 + ".io"]
)
def test_plausible_email_addresses_are_accepted(email: str) -> None:
    assert email_problem(email) is None


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "ada @example.com",
        "ada@example.com\n",
        "ada@exa\tmple.com",
        "ada@example..com",
        "a" * 65 + "@example.com",
        "a@" + "d" * 316 + ".com",
    ],
)
def test_malformed_email_addresses_are_refused(email: str) -> None:
    assert email_problem(email) is not None


def test_a_new_user_needs_a_role_and_names_every_bad_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        NewUser("not-an-email", None, "n" * 201).validate()
    assert {v.field for v in caught.value.violations} == {"user.email", "user.role", "user.display_name"}
    NewUser("ada@example.com", Role.CLERK).validate()


def test_role_changes_must_be_a_role() -> None:
    errors = ErrorDetails()
    validate_changes({"role": None}, errors)
    validate_changes({"role": Role.VIEWER, "display_name": ""}, errors)
    assert [v.field for v in errors.violations] == ["user.role"]


@pytest.mark.parametrize(
    ("length", "acceptable"), [(0, False), (11, False), (12, True), (1024, True), (1025, False)]
)
def test_passwords_must_be_12_to_1024_characters(length: int, acceptable: bool) -> None:
    assert (password_problem("p" * length) is None) is acceptable


def test_password_problems_never_repeat_the_password() -> None:
    for password in ("short-pw", "x" * 2000):
        problem = password_problem(password)
        assert problem is not None
        assert password not in problem


def test_the_user_entity_has_no_place_for_a_password_or_hash() -> None:
    names = {f.name for f in dataclasses.fields(User)}
    assert not any("password" in name or "hash" in name for name in names)


def test_stored_credentials_keep_the_hash_out_of_repr_and_str() -> None:
    credentials = StoredCredentials(a_user(), HASH)
    assert credentials.password_hash == HASH
    for text in (repr(credentials), str(credentials), f"{credentials}", f"{credentials!r}"):
        assert "argon2" not in text
        assert HASH not in text
        assert "ada@example.com" in text


def test_password_is_updatable_and_id_email_role_name_are_the_rest() -> None:
    assert frozenset({"email", "display_name", "role", "password"}) == UPDATABLE_FIELDS


def test_etag_and_deleted() -> None:
    assert a_user(version=7).etag == 'W/"7"'
    assert a_user(delete_time=datetime.now(UTC)).deleted
