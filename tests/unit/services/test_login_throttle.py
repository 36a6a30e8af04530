"""Login throttling and bounded argon2 work (issue 10), over the fakes."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from inventory_server import context
from inventory_server.domain.errors import DeadlineExceeded, ResourceExhausted, Unauthenticated
from inventory_server.domain.login_throttle import LoginLimits, account_key, throttle_keys
from inventory_server.domain.user import NewUser, Role
from inventory_server.services.passwords import DEFAULT_CONCURRENCY, Passwords
from inventory_server.services.users import UserService
from tests.unit.fakes import CountingHasher, Fakes, fake_transactor

PASSWORD = "correct horse battery staple"
LIMITS = LoginLimits(per_account=3, per_principal=5, window_seconds=60)


@pytest.fixture
def transactor() -> Fakes:
    return fake_transactor()


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def users(transactor: Fakes, hasher: CountingHasher) -> UserService:
    return UserService(transactor, Passwords(hasher), login_limits=LIMITS)


async def _fail(users: UserService, email: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(Unauthenticated):
            await users.authenticate(email, "a wrong guess 123")


async def test_an_account_is_blocked_after_its_limit_without_further_argon2_work(
    users: UserService, hasher: CountingHasher
) -> None:
    await users.create(NewUser("ada@example.com", Role.CLERK), PASSWORD)
    await _fail(users, "ada@example.com", LIMITS.per_account)
    verified = len(hasher.verified)
    with pytest.raises(ResourceExhausted) as caught:
        await users.authenticate("ADA@example.com", PASSWORD)  # even the right password, any case
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0
    assert len(hasher.verified) == verified


async def test_unknown_and_known_emails_are_throttled_alike(users: UserService, transactor: Fakes) -> None:
    await users.create(NewUser("ada@example.com", Role.CLERK), PASSWORD)
    for email in ("ada@example.com", "nobody@example.com"):
        await _fail(users, email, LIMITS.per_account)
        with pytest.raises(ResourceExhausted) as caught:
            await users.authenticate(email, "another guess 456")
        assert caught.value.reason == "TOO_MANY_FAILED_LOGINS"
        assert caught.value.message == "too many failed logins; retry later"
    # No email is stored readable, only its digest.
    assert all("example.com" not in key for key in transactor.db.login_failures)


async def test_a_successful_login_clears_the_accounts_count(users: UserService, transactor: Fakes) -> None:
    await users.create(NewUser("ada@example.com", Role.CLERK), PASSWORD)
    await _fail(users, "ada@example.com", LIMITS.per_account - 1)
    await users.authenticate("ada@example.com", PASSWORD)
    assert account_key("ada@example.com", 3).key not in transactor.db.login_failures
    await _fail(users, "ada@example.com", LIMITS.per_account - 1)  # counting starts again


async def test_a_principal_is_blocked_after_its_limit_across_accounts(users: UserService) -> None:
    context.principal.set("guesser")
    for i in range(LIMITS.per_principal):
        await _fail(users, f"user{i}@example.com", 1)
    with pytest.raises(ResourceExhausted):
        await users.authenticate("fresh@example.com", PASSWORD)
    context.principal.set("login-front-end")
    with pytest.raises(Unauthenticated):  # another caller is not blocked
        await users.authenticate("fresh@example.com", PASSWORD)


def test_the_anonymous_principal_has_no_key_of_its_own() -> None:
    assert [k.key.split(":")[0] for k in throttle_keys("a@b.c", "", account_limit=1, principal_limit=1)] == [
        "account"
    ]


class SlowHasher(CountingHasher):
    """Verification that takes ``seconds`` and counts how many run at once."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # type: ignore[override]
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
        return False


async def test_argon2_work_is_bounded_and_a_queued_call_gives_up_at_its_deadline() -> None:
    hasher = SlowHasher(0.2)
    passwords = Passwords(hasher, max_concurrent=2)
    stored = CountingHasher().hash("x")
    busy = [asyncio.create_task(passwords.verify(stored, "guess")) for _ in range(4)]
    await asyncio.sleep(0.05)
    context.deadline.set(time.monotonic() + 0.05)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        await passwords.verify(stored, "legit")
    assert time.monotonic() - started < 0.3  # gave up while queued (a slot frees only after ~0.35 s)
    context.deadline.set(None)
    await asyncio.gather(*busy)
    assert hasher.most == 2


def test_the_default_concurrency_fits_256_mib_of_argon2_memory() -> None:
    memory_kib = Passwords().hasher.memory_cost
    assert DEFAULT_CONCURRENCY * memory_kib <= 256 * 1024
    assert Passwords().max_concurrent == DEFAULT_CONCURRENCY
