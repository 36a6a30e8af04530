"""Login throttling across replicas and under a guessing flood (issue 10).

Two server processes share one database; failures counted by one replica
block the account on the other. The flood test runs 16 concurrent guessers
for a few seconds (bounded in count and time) while a legitimate user of
another principal logs in with a deadline: once the guessers' principal has
reached its limit their attempts are refused before any argon2 work, so the
bounded argon2 queue is free for everyone else.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from inventory_client import (
    DeadlineExceededError,
    InventoryClient,
    ResourceExhaustedError,
    UnauthenticatedError,
)
from inventory_client.v1 import user_pb2

from .auth_helpers import AUDIENCE, ISSUER, Issuer, write_file
from .conftest import ServerProcess, start_server
from .test_auth_roles import DEFAULT_POLICY

PASSWORD = "correct horse battery staple"
MAX_FAILURES = 4
# The guessers' principal is blocked after this many failures (the first test uses another principal).
MAX_FAILURES_PER_PRINCIPAL = 20
GUESSERS = 16
# The legitimate caller's deadline (generous: this machine is shared and slow; argon2 alone takes
# ~0.1-0.5 s here, and without the throttle the login waited out any deadline behind the flood).
LEGIT_DEADLINE = 10.0
FLOOD_SECONDS = 4.0


@dataclass
class Replicas:
    servers: tuple[ServerProcess, ServerProcess]
    issuer: Issuer

    def client(self, replica: int, sub: str) -> InventoryClient:
        return InventoryClient(
            self.servers[replica].target, token=self.issuer.token(sub), timeout=10, max_attempts=1
        )


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory, database_factory: object, migrated_template: str
) -> Iterator[Replicas]:
    folder = tmp_path_factory.mktemp("throttle")
    issuer = Issuer(folder / "jwks.json")
    issuer.new_key("k1")
    issuer.publish("k1")
    policy = yaml.safe_load(DEFAULT_POLICY.read_text())
    policy["bindings"] = [
        {"principal": "ops-admin", "roles": ["admin"]},
        {"principal": "login-front-end", "roles": ["authenticator"]},
        {"principal": "guesser", "roles": ["authenticator"]},
    ]
    write_file(folder / "policy.yaml", yaml.safe_dump(policy))
    env = {
        "DATABASE_URL": database_factory(template=migrated_template),  # type: ignore[operator]
        "INVENTORY_AUTH_POLICY_FILE": str(folder / "policy.yaml"),
        "INVENTORY_JWT_JWKS_FILE": str(issuer.jwks_file),
        "INVENTORY_JWT_ISSUER": ISSUER,
        "INVENTORY_JWT_AUDIENCE": AUDIENCE,
        "INVENTORY_GRACE_PERIOD": "2",
        "INVENTORY_LOGIN_MAX_FAILURES": str(MAX_FAILURES),
        "INVENTORY_LOGIN_MAX_FAILURES_PER_PRINCIPAL": str(MAX_FAILURES_PER_PRINCIPAL),
        "INVENTORY_LOGIN_FAILURE_WINDOW_SECONDS": "120",
        "INVENTORY_PASSWORD_HASH_CONCURRENCY": "2",
    }
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    first = start_server(folder / "a", env)
    try:
        second = start_server(folder / "b", env)
    except BaseException:
        first.stop()
        raise
    yield Replicas((first, second), issuer)
    assert first.stop() == 0, first.log()
    assert second.stop() == 0, second.log()


def _create_user(replicas: Replicas) -> str:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    with replicas.client(0, "ops-admin") as admin:
        admin.users.CreateUser(
            user_pb2.CreateUserRequest(
                user=user_pb2.User(email=email, display_name="t", role=user_pb2.ROLE_VIEWER),
                password=PASSWORD,
            )
        )
    return email


def _login(client: InventoryClient, email: str, password: str, timeout: float = 10) -> None:
    client.users.AuthenticateUser(
        user_pb2.AuthenticateUserRequest(email=email, password=password), timeout=timeout
    )


def test_repeated_wrong_passwords_are_throttled_on_both_replicas(replicas: Replicas) -> None:
    email = _create_user(replicas)
    with replicas.client(0, "login-front-end") as first, replicas.client(1, "login-front-end") as second:
        for attempt in range(MAX_FAILURES):  # alternate replicas: the count is in the database
            with pytest.raises(UnauthenticatedError):
                _login((first, second)[attempt % 2], email, f"wrong guess {attempt}")
        for client in (first, second):
            with pytest.raises(ResourceExhaustedError) as raised:
                _login(client, email, PASSWORD)
            assert raised.value.reason == "TOO_MANY_FAILED_LOGINS"
            assert raised.value.retry_delay is not None
            assert 0 < raised.value.retry_delay <= 120
        # An unknown email is throttled the same way and with the same answer.
        unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
        for attempt in range(MAX_FAILURES):
            with pytest.raises(UnauthenticatedError):
                _login((first, second)[attempt % 2], unknown, f"wrong guess {attempt}")
        with pytest.raises(ResourceExhaustedError) as again:
            _login(second, unknown, PASSWORD)
        assert again.value.reason == "TOO_MANY_FAILED_LOGINS"


def test_a_legitimate_login_answers_within_its_deadline_under_a_guessing_flood(replicas: Replicas) -> None:
    victim_emails = [_create_user(replicas) for _ in range(3)]
    legit = _create_user(replicas)
    stop = threading.Event()
    answers: list[str] = []

    def guess(index: int) -> None:
        with replicas.client(index % 2, "guesser") as client:
            attempt = 0
            # Bounded in time (FLOOD_SECONDS) and count (200 attempts per guesser).
            while not stop.is_set() and attempt < 200:
                attempt += 1
                email = (
                    victim_emails[attempt % len(victim_emails)] if attempt % 2 else f"x{attempt}@example.com"
                )
                try:
                    _login(client, email, f"guess {index}-{attempt}", timeout=5)
                    answers.append("OK")
                except (UnauthenticatedError, ResourceExhaustedError, DeadlineExceededError) as error:
                    answers.append(type(error).__name__)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(GUESSERS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)  # let the flood build up
        with replicas.client(0, "login-front-end") as front:
            # Raises DeadlineExceeded (failing the test) if the flood starves it.
            _login(front, legit, PASSWORD, timeout=LEGIT_DEADLINE)
    finally:
        time.sleep(max(0.0, FLOOD_SECONDS - 1.5))
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert "OK" not in answers
    # The guessers' principal (and the victims' accounts) got throttled: that is what frees the
    # argon2 slots for everyone else.
    assert "ResourceExhaustedError" in answers
