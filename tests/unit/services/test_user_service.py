"""UserService over in-memory fakes: hashing on create/update, idempotency, and login."""

from __future__ import annotations

import logging

import pytest

from inventory_server.domain.errors import InvalidArgument, Unauthenticated, Unavailable
from inventory_server.domain.user import NewUser, Role, User
from inventory_server.services.idempotency import fingerprint
from inventory_server.services.passwords import Passwords
from inventory_server.services.users import CREATE_SCOPE, LOGIN_FAILED, UserService
from tests.unit.fakes import CountingHasher, Fakes, fake_transactor

PASSWORD = "correct horse battery staple"


@pytest.fixture
def transactor() -> Fakes:
    return fake_transactor()


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def service(transactor: Fakes, hasher: CountingHasher) -> UserService:
    return UserService(transactor, Passwords(hasher))


async def create_ada(service: UserService, password: str = PASSWORD, request_id: str = "") -> User:
    return await service.create(NewUser("Ada@Example.com", Role.ADMIN, "Ada"), password, request_id)


async def test_create_stores_only_an_argon2id_hash_of_the_password(
    service: UserService, transactor: Fakes, hasher: CountingHasher
) -> None:
    user = await create_ada(service)
    stored = transactor.db.password_hashes[user.id]
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert hasher.verify(stored, PASSWORD)
    assert transactor.units == ["commit"]


async def test_create_names_every_bad_field_and_does_no_work(
    service: UserService, transactor: Fakes, hasher: CountingHasher
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await service.create(NewUser("nope", None), "short")
    assert {v.field for v in caught.value.violations} == {"user.email", "user.role", "password"}
    assert "short" not in caught.value.message
    assert (transactor.units, hasher.hashed) == ([], 0)


async def test_a_repeated_request_id_returns_the_first_user(service: UserService, transactor: Fakes) -> None:
    first = await create_ada(service, request_id="req-1")
    again = await create_ada(service, request_id="req-1")
    assert again == first
    assert len(transactor.db.users) == 1


async def test_a_repeated_request_id_with_another_password_is_refused_like_any_other_change(
    service: UserService, transactor: Fakes
) -> None:
    # Issue 9, finding 11: the retry answered OK and silently kept the first password.
    first = await create_ada(service, request_id="req-1")
    with pytest.raises(InvalidArgument) as caught:
        await create_ada(service, "another password 123", request_id="req-1")
    assert [v.field for v in caught.value.violations] == ["request_id"]
    assert "another password" not in caught.value.message
    assert await create_ada(service, request_id="req-1") == first  # the same password still replays
    with pytest.raises(InvalidArgument):
        await service.create(NewUser("bob@example.com", Role.ADMIN), PASSWORD, "req-1")


async def test_neither_the_fingerprint_nor_the_stored_response_holds_the_password_or_a_fast_digest(
    service: UserService, transactor: Fakes
) -> None:
    await create_ada(service, request_id="req-1")
    stored_fingerprint, response = transactor.db.idempotency_keys[(CREATE_SCOPE, "req-1")]
    profile = {"email": "Ada@Example.com", "display_name": "Ada", "role": "admin"}
    assert stored_fingerprint == fingerprint(profile)
    assert response is not None
    assert PASSWORD not in repr(response)
    # The retry is checked against the argon2id hash made for the first request, nothing faster.
    assert str(response["password_hash"]).startswith("$argon2id$")


async def test_login_returns_the_user_for_the_right_password(service: UserService) -> None:
    user = await create_ada(service)
    assert await service.authenticate("ada@example.com", PASSWORD) == user


async def test_every_failed_login_looks_the_same(service: UserService, hasher: CountingHasher) -> None:
    user = await create_ada(service)
    await service.create(NewUser("gone@example.com", Role.CLERK), PASSWORD)
    gone = await service.authenticate("gone@example.com", PASSWORD)
    await service.delete(gone.id, None)
    failures = []
    for email, password in [
        ("ada@example.com", "wrong password 1"),
        ("nobody@example.com", PASSWORD),
        ("gone@example.com", PASSWORD),
    ]:
        hasher.verified.clear()
        with pytest.raises(Unauthenticated) as caught:
            await service.authenticate(email, password)
        failures.append((caught.value.message, caught.value.reason, caught.value.metadata))
        assert len(hasher.verified) == 1, email  # one argon2 verification, user or not
    assert failures == [(LOGIN_FAILED, "UNAUTHENTICATED", {})] * 3
    assert user.email not in LOGIN_FAILED


async def test_an_unknown_email_is_verified_against_the_dummy_hash(
    service: UserService, hasher: CountingHasher
) -> None:
    with pytest.raises(Unauthenticated):
        await service.authenticate("nobody@example.com", PASSWORD)
    assert hasher.verified[0].startswith("$argon2id$")


async def test_missing_credentials_are_invalid_and_overlong_passwords_fail_without_a_lookup(
    service: UserService, transactor: Fakes
) -> None:
    with pytest.raises(InvalidArgument):
        await service.authenticate("", PASSWORD)
    with pytest.raises(InvalidArgument):
        await service.authenticate("ada@example.com", "")
    with pytest.raises(Unauthenticated) as caught:
        await service.authenticate("ada@example.com", "x" * 1025)
    assert caught.value.message == LOGIN_FAILED
    assert transactor.units == []


async def test_a_hash_with_outdated_parameters_is_replaced_on_login(transactor: Fakes) -> None:
    user = await create_ada(UserService(transactor, Passwords(CountingHasher(time_cost=1))))
    old_hash = transactor.db.password_hashes[user.id]
    stronger = CountingHasher(time_cost=2)
    assert (
        await UserService(transactor, Passwords(stronger)).authenticate("ada@example.com", PASSWORD) == user
    )
    new_hash = transactor.db.password_hashes[user.id]
    assert new_hash != old_hash
    assert not stronger.check_needs_rehash(new_hash)
    assert transactor.db.users[user.id].version == user.version  # etags stay valid


async def test_a_failed_rehash_does_not_fail_a_correct_login_nor_log_the_hash(
    transactor: Fakes, caplog: pytest.LogCaptureFixture
) -> None:
    user = await create_ada(UserService(transactor, Passwords(CountingHasher(time_cost=1))))
    transactor.db.fail_rehash = Unavailable("database down")
    with caplog.at_level(logging.WARNING):
        logged_in = await UserService(transactor, Passwords(CountingHasher(time_cost=2))).authenticate(
            "ada@example.com", PASSWORD
        )
    assert logged_in == user
    assert "could not upgrade" in caplog.text
    assert "argon2" not in caplog.text
    assert PASSWORD not in caplog.text


async def test_update_with_a_password_rehashes_it(service: UserService, transactor: Fakes) -> None:
    user = await create_ada(service)
    old_hash = transactor.db.password_hashes[user.id]
    updated = await service.update(user.id, {"password": "a brand new password"}, user.version)
    assert updated.version == user.version + 1
    assert transactor.db.password_hashes[user.id] != old_hash
    with pytest.raises(Unauthenticated):
        await service.authenticate("ada@example.com", PASSWORD)
    assert await service.authenticate("ada@example.com", "a brand new password") == updated


async def test_update_refuses_bad_values_and_unknown_fields_before_any_work(
    service: UserService, transactor: Fakes
) -> None:
    user = await create_ada(service)
    runs = list(transactor.units)
    with pytest.raises(InvalidArgument) as caught:
        await service.update(user.id, {"password": "too short", "role": None, "email": "x"}, None)
    assert {v.field for v in caught.value.violations} == {"password", "user.role", "user.email"}
    assert "too short" not in caught.value.message
    with pytest.raises(InvalidArgument) as unknown:
        await service.update(user.id, {"password_hash": "$argon2id$..."}, None)
    assert unknown.value.violations[0].field == "update_mask"
    assert transactor.units == runs


async def test_update_of_profile_fields_keeps_the_hash(service: UserService, transactor: Fakes) -> None:
    user = await create_ada(service)
    old_hash = transactor.db.password_hashes[user.id]
    updated = await service.update(user.id, {"role": Role.VIEWER, "display_name": "Countess"}, None)
    assert (updated.role, updated.display_name) == (Role.VIEWER, "Countess")
    assert transactor.db.password_hashes[user.id] == old_hash
