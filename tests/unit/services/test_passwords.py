"""Passwords: argon2id hashes, verification that hides unknown users, work off the event loop."""

from __future__ import annotations

import asyncio
import doctest
import threading
import time

from argon2 import PasswordHasher, Type

import inventory_server.services.passwords as passwords_module
from inventory_server.services.passwords import Passwords
from tests.unit.fakes import CountingHasher

PASSWORD = "correct horse battery staple"


async def test_hashes_are_salted_argon2id_and_never_contain_the_password() -> None:
    passwords = Passwords(CountingHasher())
    first, second = await passwords.hash(PASSWORD), await passwords.hash(PASSWORD)
    assert first.startswith("$argon2id$")
    assert first != second
    assert PASSWORD not in first


async def test_the_right_password_verifies_and_a_wrong_one_does_not() -> None:
    passwords = Passwords(CountingHasher())
    stored = await passwords.hash(PASSWORD)
    assert await passwords.verify(stored, PASSWORD)
    assert not await passwords.verify(stored, PASSWORD + "!")


async def test_an_unknown_user_still_costs_one_verification_against_a_dummy_hash() -> None:
    hasher = CountingHasher()
    passwords = Passwords(hasher)
    assert not await passwords.verify(None, PASSWORD)
    assert not await passwords.verify(None, PASSWORD)
    assert len(hasher.verified) == 2
    assert hasher.verified[0] == hasher.verified[1]
    assert hasher.verified[0].startswith("$argon2id$")
    assert hasher.hashed == 1  # the dummy is made once and reused


async def test_a_malformed_stored_hash_is_a_mismatch_not_a_crash() -> None:
    passwords = Passwords(CountingHasher())
    assert not await passwords.verify("not-a-hash", PASSWORD)
    assert not await passwords.verify("$argon2id$v=19$m=8,t=1,p=1$broken", PASSWORD)
    assert not passwords.needs_rehash("not-a-hash")


async def test_hashes_made_with_weaker_parameters_need_a_rehash() -> None:
    weak = await Passwords(CountingHasher(time_cost=1)).hash(PASSWORD)
    stronger = Passwords(CountingHasher(time_cost=2))
    assert stronger.needs_rehash(weak)
    assert not stronger.needs_rehash(await stronger.hash(PASSWORD))


async def test_the_default_hasher_is_argon2id() -> None:
    assert Passwords().hasher.type is Type.ID


async def test_hashing_and_verifying_run_in_worker_threads() -> None:
    hasher = CountingHasher()
    passwords = Passwords(hasher)
    stored = await passwords.hash(PASSWORD)
    await passwords.verify(stored, PASSWORD)
    await passwords.verify(None, PASSWORD)
    assert hasher.threads
    assert threading.get_ident() not in hasher.threads


class SlowHasher(PasswordHasher):
    """Counts how many hashes run at the same time."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
        self.running = 0
        self.peak = 0
        self.lock = threading.Lock()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(0.02)
        with self.lock:
            self.running -= 1
        return super().hash(password, salt=salt)


async def test_no_more_than_max_concurrent_hashes_run_at_once() -> None:
    hasher = SlowHasher()
    passwords = Passwords(hasher, max_concurrent=2)
    await asyncio.gather(*(passwords.hash(PASSWORD) for _ in range(6)))
    assert hasher.peak == 2


def test_the_module_docstring_example_holds() -> None:
    result = doctest.testmod(passwords_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
