"""The role of an active user, cached briefly: asked on every call that carries a user's token.

A token whose ``sub`` is a user's id acts as that user with the user's current
role, so each such call needs the role. Reading it from the database every
time would add a query to every call; the cache keeps an answer (including
"no such active user") for ``ttl`` seconds. That is how long, at most, a role
change, a deletion or an undeletion takes to apply on a replica
(``INVENTORY_AUTH_USER_CACHE_SECONDS``, documented in docs/security.md).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID

from inventory_server.domain.errors import NotFound
from inventory_server.services.users import UserService


class UserRoles:
    """``role_of(user_id)``: the role name of an active user, or None; answers kept ``ttl`` seconds."""

    def __init__(
        self,
        users: UserService,
        *,
        ttl: float = 5.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.users = users
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[UUID, tuple[str | None, float]] = OrderedDict()

    def __len__(self) -> int:
        """Cached answers (bounded by ``max_entries``)."""
        return len(self._entries)

    async def role_of(self, user_id: UUID) -> str | None:
        now = self.clock()
        entry = self._entries.get(user_id)
        if entry is not None and entry[1] > now:
            return entry[0]
        try:
            user = await self.users.get(user_id)
        except NotFound:
            role = None
        else:
            role = None if user.deleted else user.role.value
        self._entries[user_id] = (role, now + self.ttl)
        self._entries.move_to_end(user_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return role
