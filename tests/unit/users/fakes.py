"""In-memory fakes for the user service: runner, unit of work, repositories, a cheap hasher."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from uuid import UUID, uuid4

from argon2 import PasswordHasher, Type

from inventory_server.db.uow import TransactionRunner, UnitOfWork
from inventory_server.domain.errors import (
    AlreadyExists,
    DomainError,
    EtagMismatch,
    InvalidArgument,
    NotFound,
)
from inventory_server.domain.user import NewUser, Role, StoredCredentials, User
from inventory_server.repositories.idempotency import IdempotencyRepository
from inventory_server.repositories.users import UserRepository

T = TypeVar("T")


class CountingHasher(PasswordHasher):
    """argon2id with tiny costs (fast tests) that records which hashes it verified, and where."""

    def __init__(self, time_cost: int = 1) -> None:
        super().__init__(time_cost=time_cost, memory_cost=8, parallelism=1, type=Type.ID)
        self.verified: list[str] = []
        self.hashed = 0
        self.threads: set[int] = set()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashed += 1
        self.threads.add(threading.get_ident())
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        self.threads.add(threading.get_ident())
        return super().verify(hash, password)


class FakeIdempotencyRepository(IdempotencyRepository):
    """Keys in a dict: (scope, request_id) -> (fingerprint, response)."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {}

    async def claim(self, scope: str, request_id: str, fingerprint: str) -> dict[str, Any] | None:
        key = (scope, request_id)
        if key not in self.keys:
            self.keys[key] = (fingerprint, None)
            return None
        stored_fingerprint, response = self.keys[key]
        if stored_fingerprint != fingerprint:
            raise InvalidArgument.field("request_id", "was already used for a different request")
        return response

    async def store(self, scope: str, request_id: str, response: dict[str, Any]) -> None:
        fingerprint, _ = self.keys[(scope, request_id)]
        self.keys[(scope, request_id)] = (fingerprint, response)


class FakeUserRepository(UserRepository):
    """Users and their hashes in dicts, with the real repository's errors and email rules."""

    def __init__(self) -> None:
        self.rows: dict[UUID, User] = {}
        self.hashes: dict[UUID, str] = {}
        self.fail_rehash: DomainError | None = None

    async def get(self, id: UUID, *, for_update: bool = False) -> User:
        if id not in self.rows:
            raise NotFound("user", str(id))
        return self.rows[id]

    async def create(self, new: NewUser, password_hash: str) -> User:
        self._check_email_free(new.email, None)
        moment = datetime.now(UTC)
        role = new.role if new.role is not None else Role.VIEWER
        user = User(uuid4(), new.email, new.display_name, role, moment, moment, None, 1)
        self.rows[user.id] = user
        self.hashes[user.id] = password_hash
        return user

    async def update(self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None) -> User:
        current = await self.get(id)
        if expected_version is not None and current.version != expected_version:
            raise EtagMismatch("user", str(id))
        profile = {k: v for k, v in changes.items() if k != "password_hash"}
        if "email" in profile:
            self._check_email_free(str(profile["email"]), id)
        if "password_hash" in changes:
            self.hashes[id] = str(changes["password_hash"])
        updated = dataclasses.replace(current, **profile, version=current.version + 1)
        self.rows[id] = updated
        return updated

    async def soft_delete(self, id: UUID, *, expected_version: int | None) -> User:
        current = await self.get(id)
        deleted = dataclasses.replace(current, delete_time=datetime.now(UTC), version=current.version + 1)
        self.rows[id] = deleted
        return deleted

    async def credentials(self, email: str) -> StoredCredentials | None:
        for user in self.rows.values():
            if user.email.lower() == email.lower() and not user.deleted:
                return StoredCredentials(user, self.hashes[user.id])
        return None

    async def replace_password_hash(self, id: UUID, old_hash: str, new_hash: str) -> bool:
        if self.fail_rehash is not None:
            raise self.fail_rehash
        if self.hashes.get(id) != old_hash:
            return False
        self.hashes[id] = new_hash
        return True

    def _check_email_free(self, email: str, owner: UUID | None) -> None:
        for user in self.rows.values():
            if user.email.lower() == email.lower() and user.id != owner:
                raise AlreadyExists("user", "email", email)


class FakeUnitOfWork(UnitOfWork):
    """A unit of work over the fakes; ``commit`` only records that it was asked for."""

    def __init__(self, users: FakeUserRepository, idempotency: FakeIdempotencyRepository) -> None:
        self.committing = False
        self.committed = False
        self.fake_users = users
        self.fake_idempotency = idempotency

    @property
    def users(self) -> UserRepository:
        return self.fake_users

    @property
    def idempotency(self) -> IdempotencyRepository:
        return self.fake_idempotency

    async def commit(self) -> None:
        self.committed = True


class FakeRunner(TransactionRunner):
    """Runs each piece of work once on a fresh fake unit of work and remembers how it ran."""

    def __init__(self) -> None:
        self.users = FakeUserRepository()
        self.idempotency = FakeIdempotencyRepository()
        self.runs: list[tuple[bool, bool]] = []  # (read_only, committed)

    async def run(
        self, work: Callable[[UnitOfWork], Awaitable[T]], *, retryable: bool = True, read_only: bool = False
    ) -> T:
        uow = FakeUnitOfWork(self.users, self.idempotency)
        result = await work(uow)
        self.runs.append((read_only, uow.committed))
        return result
