"""User use cases, including password login.

Passwords are hashed and verified outside any transaction (``Passwords`` runs
argon2 in a worker thread), so no connection is held during the ~50 ms of CPU
work. A plaintext password never reaches a repository, a fingerprint, a log
line or an error message; the hash never leaves the repository except on the
login path, inside ``StoredCredentials``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from inventory_server import context
from inventory_server.domain.audit import OK
from inventory_server.domain.errors import (
    DomainError,
    ErrorDetails,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from inventory_server.domain.login_throttle import LoginLimits, throttle_keys
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.user import (
    MAX_PASSWORD_LENGTH,
    USER_UPDATES,
    NewUser,
    StoredCredentials,
    User,
    password_problem,
    validate_changes,
)
from inventory_server.services.audit import audited, event
from inventory_server.services.idempotency import write_once
from inventory_server.services.passwords import Passwords
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

log = logging.getLogger(__name__)

CREATE_SCOPE = "CreateUser"
# Pseudo-permissions guarding parts of UpdateUser (registered in auth.setup.PSEUDO_PERMISSIONS):
# setting a password without knowing the current one, and changing a role.
SET_PASSWORD_PERMISSION = "inventory.v1.UserService/UpdateUser#password"  # noqa: S105 (a permission name)
CHANGE_ROLE_PERMISSION = "inventory.v1.UserService/UpdateUser#role"
# One message for every failed login: it must not say which part was wrong.
LOGIN_FAILED = "the email or password is incorrect"


# Audit events name resources "users/<id>".
COLLECTION = "users"


class UserService:
    """Reads and changes users, and checks their passwords."""

    def __init__(
        self,
        transactor: Transactor[UnitOfWork],
        passwords: Passwords | None = None,
        *,
        login_limits: LoginLimits | None = None,
    ) -> None:
        self.transactor = transactor
        self.passwords = passwords if passwords is not None else Passwords()
        self.login_limits = login_limits if login_limits is not None else LoginLimits()

    async def get(self, id: UUID, *, replica_ok: bool = False) -> User:
        return await self.transactor.read(lambda uow: uow.users.get(id), replica_ok=replica_ok)

    async def list_users(self, query: ListQuery) -> Page[User]:
        return await self.transactor.read(lambda uow: uow.users.list(query), replica_ok=True)

    async def create(self, new: NewUser, password: str, request_id: str = "") -> User:
        """Create with an argon2id hash of ``password``.

        With a ``request_id`` a repeat returns the first result and creates
        nothing, if it is the same request: the fingerprint covers the profile
        fields, and the password is checked against the argon2id hash made for
        the first request (kept with its stored response), after the
        transaction, like any password check. A different password is
        InvalidArgument on request_id, like any other changed field. Why not in
        the fingerprint: a fast digest of a password (SHA-256) would be a
        crackable copy of it; the argon2id hash is as strong as the stored one.
        Responses stored before the hash was kept replay without the check.
        """
        errors = ErrorDetails()
        validate_changes(new.changes(), errors)
        _check_password(password, errors)
        errors.raise_if_any()
        payload = {key: str(value) for key, value in new.changes().items()}
        password_hash = await self.passwords.hash(password)

        first_hashes: list[str] = []

        async def replay(uow: UnitOfWork, stored: dict[str, Any]) -> User:
            if isinstance(stored.get("password_hash"), str):
                first_hashes.append(stored["password_hash"])
            return await uow.users.get(UUID(stored["id"]))

        user = await write_once(
            self.transactor,
            audited(COLLECTION, lambda uow: uow.users.create(new, password_hash), request_id=request_id),
            scope=CREATE_SCOPE,
            request_id=request_id,
            payload=payload,
            encode=lambda created: {"id": str(created.id), "password_hash": password_hash},
            replay=replay,
        )
        # Verified outside the transaction: argon2 never runs while a connection is held.
        if first_hashes and not await self.passwords.verify(first_hashes[-1], password):
            raise InvalidArgument.field(
                "request_id", "was already used for a different request; use a new request_id"
            )
        return user

    async def update(
        self,
        id: UUID,
        changes: Mapping[str, Any],
        expected_version: int | None,
        current_password: str = "",
    ) -> User:
        """Change email, display_name, role and/or password (a plaintext, hashed here).

        A role change needs ``CHANGE_ROLE_PERMISSION``. A password change needs
        ``SET_PASSWORD_PERMISSION``, or else is self-service: the caller acts as
        this very user (``context.acting_user``) and ``current_password`` is
        theirs (checked with argon2 outside any transaction). Either refusal is
        PermissionDenied, decided before anything is hashed or written.

        NotFound / EtagMismatch / AlreadyExists (email) / InvalidArgument / PermissionDenied.
        """
        USER_UPDATES.check(changes)
        await self._check_identity_changes(id, changes, current_password)
        stored = {name: value for name, value in changes.items() if name != "password"}
        if "password" in changes:
            stored[USER_UPDATES.stored_as["password"]] = await self.passwords.hash(str(changes["password"]))

        return await self.transactor.write(
            # The event names "password" among the changed fields, never a value or hash.
            audited(
                COLLECTION,
                lambda uow: uow.users.update(id, stored, expected_version=expected_version),
                changes,
            )
        )

    async def _check_identity_changes(
        self, id: UUID, changes: Mapping[str, Any], current_password: str
    ) -> None:
        """Raise PermissionDenied for a role or password change the caller may not make, after auditing it."""
        refusal = await self._identity_change_refusal(id, changes, current_password)
        if refusal is None:
            return
        # Recorded in a transaction of its own: the refused change itself writes nothing.
        denied = event(f"{COLLECTION}/{id}", changes, result="PERMISSION_DENIED")
        await self.transactor.write(lambda uow: uow.audit.record(denied))
        raise refusal

    async def _identity_change_refusal(
        self, id: UUID, changes: Mapping[str, Any], current_password: str
    ) -> PermissionDenied | None:
        allowed = context.permissions.get()
        if "role" in changes and not allowed.allows(CHANGE_ROLE_PERMISSION):
            return PermissionDenied(
                f"changing a role needs the permission {CHANGE_ROLE_PERMISSION}",
                reason="ROLE_CHANGE_NOT_ALLOWED",
                metadata={"field": "role", "permission": CHANGE_ROLE_PERMISSION},
            )
        if "password" not in changes or allowed.allows(SET_PASSWORD_PERMISSION):
            return None
        if context.acting_user.get() != id:
            return PermissionDenied(
                f"setting another user's password needs the permission {SET_PASSWORD_PERMISSION}",
                reason="PASSWORD_CHANGE_NOT_ALLOWED",
                metadata={"field": "password", "permission": SET_PASSWORD_PERMISSION},
            )
        if not current_password or len(current_password) > MAX_PASSWORD_LENGTH:
            return PermissionDenied(
                "changing your own password needs current_password",
                reason="CURRENT_PASSWORD_REQUIRED",
                metadata={"field": "current_password"},
            )

        async def stored_hash(uow: UnitOfWork) -> str | None:
            user = await uow.users.get(id)
            stored = await uow.users.credentials(user.email)
            return stored.password_hash if stored is not None and stored.user.id == id else None

        # Verified outside the transaction, like every password check.
        password_hash = await self.transactor.read(stored_hash)
        if not await self.passwords.verify(password_hash, current_password):
            return PermissionDenied(
                "current_password is not the user's password",
                reason="CURRENT_PASSWORD_WRONG",
                metadata={"field": "current_password"},
            )
        return None

    async def delete(self, id: UUID, expected_version: int | None) -> User:
        """Soft delete: the user can no longer log in; the ledger keeps referring to them."""

        return await self.transactor.write(
            audited(COLLECTION, lambda uow: uow.users.soft_delete(id, expected_version=expected_version))
        )

    async def authenticate(self, email: str, password: str) -> User:
        """The live user with this email (any case) and password; Unauthenticated otherwise.

        Unknown email, deleted user and wrong password fail alike: same error,
        same message, and one argon2 verification each (against a dummy hash
        when there is no user), so neither the answer nor its timing tells
        whether the email exists. A hash made with outdated parameters is
        replaced after a successful login.

        Throttled (``LoginLimits``, counted in PostgreSQL so every replica
        agrees): failures count against the email (known or not, alike) and
        the calling principal; while either is over its limit the attempt is
        ResourceExhausted with the wait in RetryInfo, before any argon2 work.
        A successful login clears the account's count.
        """
        if not email:
            raise InvalidArgument.field("email", "is required")
        if not password:
            raise InvalidArgument.field("password", "is required")
        if len(password) > MAX_PASSWORD_LENGTH:
            # No stored password can be this long; refusing early bounds the work a caller can cause.
            raise Unauthenticated(LOGIN_FAILED)

        limits = self.login_limits
        keys = throttle_keys(
            email,
            context.principal.get(),
            account_limit=limits.per_account,
            principal_limit=limits.per_principal,
        )

        async def look_up(uow: UnitOfWork) -> tuple[float, StoredCredentials | None]:
            blocked = await uow.login_throttle.blocked_for(keys)
            return blocked, None if blocked else await uow.users.credentials(email)

        blocked, stored = await self.transactor.read(look_up)
        if blocked:
            # Not audited row by row: a guessing flood would write as fast as it guesses.
            raise ResourceExhausted(
                "too many failed logins; retry later",
                reason="TOO_MANY_FAILED_LOGINS",
                retry_after=blocked,
            )
        matched = await self.passwords.verify(stored.password_hash if stored else None, password)
        ok = stored is not None and matched
        # Every attempt is audited, known email or not, with the same one write (timing stays alike);
        # an unknown email is "users/-" (the attempted email and the password are never recorded).
        login = event(
            f"{COLLECTION}/{stored.user.id}" if stored is not None else f"{COLLECTION}/-",
            result=OK if ok else "UNAUTHENTICATED",
        )

        async def settle(uow: UnitOfWork) -> None:
            await uow.audit.record(login)
            if ok:
                await uow.login_throttle.clear(keys[0])
            else:
                await uow.login_throttle.record_failure(keys, limits.window_seconds)

        await self.transactor.write(settle)
        if stored is None or not matched:
            raise Unauthenticated(LOGIN_FAILED)
        if self.passwords.needs_rehash(stored.password_hash):
            await self._rehash(stored, password)
        return stored.user

    async def _rehash(self, stored: StoredCredentials, password: str) -> None:
        """Upgrade the hash; a failure here must not fail a correct login, so it is only logged."""
        new_hash = await self.passwords.hash(password)

        try:
            await self.transactor.write(
                lambda uow: uow.users.replace_password_hash(stored.user.id, stored.password_hash, new_hash)
            )
        except DomainError as error:
            log.warning("could not upgrade the password hash of user %s: %s", stored.user.id, error.reason)


def _check_password(password: str, errors: ErrorDetails) -> None:
    problem = password_problem(password)
    if problem:
        errors.add("password", problem)
