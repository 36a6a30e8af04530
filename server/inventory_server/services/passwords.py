"""argon2id password hashing, off the event loop, with verification that hides unknown emails.

Hashing and verifying cost ~50 ms of CPU and 64 MiB each (argon2-cffi's
RFC 9106 low-memory profile), so both run in a worker thread
(``asyncio.to_thread``; argon2-cffi releases the GIL) and at most
``max_concurrent`` run at once (``INVENTORY_PASSWORD_HASH_CONCURRENCY``,
default 3: 192 MiB, within a 256 MiB budget), which bounds memory under a
login storm. The others wait in a FIFO queue no longer than the caller's
deadline (``context.remaining()``): a call whose deadline passes while
queued is DeadlineExceeded without doing the work.
Neither the password nor its hash is ever logged or put in an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from collections.abc import AsyncIterator

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from inventory_server import context
from inventory_server.domain.errors import DeadlineExceeded

# argon2 work at once when not configured: 3 x 64 MiB fits a 256 MiB budget with room for the rest.
DEFAULT_CONCURRENCY = 3


class Passwords:
    """Hashes new passwords and verifies logins in roughly constant time.

    >>> passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    >>> stored = asyncio.run(passwords.hash("correct horse battery"))
    >>> stored.startswith("$argon2id$")
    True
    >>> asyncio.run(passwords.verify(stored, "correct horse battery"))
    True
    >>> asyncio.run(passwords.verify(None, "anything at all"))
    False
    """

    def __init__(self, hasher: PasswordHasher | None = None, *, max_concurrent: int | None = None) -> None:
        self.hasher = hasher if hasher is not None else PasswordHasher(type=Type.ID)
        self.max_concurrent = max_concurrent or DEFAULT_CONCURRENCY
        self._slots = asyncio.Semaphore(self.max_concurrent)
        self._dummy_hash: str | None = None
        self._dummy_lock = threading.Lock()

    async def hash(self, password: str) -> str:
        """A new argon2id hash (with a fresh salt) of ``password``."""
        async with self._slot():
            return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash``.

        ``None`` (no such user) still costs one full verification, against a
        hash of a random secret made once per process, and is always False:
        a caller cannot tell an unknown email from a wrong password by timing.
        A malformed stored hash counts as a mismatch.
        """
        async with self._slot():
            return await asyncio.to_thread(self._verify, stored_hash, password)

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """One of ``max_concurrent`` slots, waited for no longer than the caller's deadline."""
        remaining = context.remaining()
        try:
            if remaining is None:
                await self._slots.acquire()
            else:
                await asyncio.wait_for(self._slots.acquire(), timeout=max(0.0, remaining))
        except TimeoutError:
            raise DeadlineExceeded("the deadline passed while waiting to check the password") from None
        try:
            yield
        finally:
            self._slots.release()

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when ``stored_hash`` was made with other parameters than the current ones."""
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return False

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        target = stored_hash if stored_hash is not None else self._dummy()
        try:
            matched = self.hasher.verify(target, password)
        except (VerificationError, InvalidHashError):
            return False
        return matched and stored_hash is not None

    def _dummy(self) -> str:
        with self._dummy_lock:
            if self._dummy_hash is None:
                self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(32))
            return self._dummy_hash
