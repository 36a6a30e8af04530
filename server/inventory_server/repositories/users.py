"""Users over PostgreSQL. The password hash is written here but read back only by ``credentials``.

Every other query selects the mapping's columns, the fields of ``User``,
which has no ``password_hash``; so no ``User`` (and nothing built from one)
can carry the hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any
from uuid import UUID

from inventory_server.db.listing import FieldSpec, ResourceFields
from inventory_server.db.query import col, lower, update
from inventory_server.domain.paging import ListQuery, Page
from inventory_server.domain.user import USER_UPDATES, NewUser, Role, StoredCredentials, User
from inventory_server.repositories.base import BaseRepository
from inventory_server.repositories.mapping import TableMapping

PASSWORD_HASH = USER_UPDATES.stored_as["password"]

# Roles filter by their stored names, case-insensitively: role = admin, role = "ADMIN".
USER_LIST_FIELDS = ResourceFields(
    "users",
    (
        FieldSpec("email", "email", "text", sortable=True),
        FieldSpec("display_name", "display_name", "text", sortable=True),
        FieldSpec("role", "role", "enum", sortable=True, enum_values=tuple(r.value for r in Role)),
        FieldSpec("create_time", "create_time", "timestamp", sortable=True),
        FieldSpec("update_time", "update_time", "timestamp", sortable=True),
    ),
    default_order="create_time",
)


USER_MAPPING = TableMapping(
    table="users",
    resource="user",
    entity=User,
    convert={"role": Role},
    list_fields=USER_LIST_FIELDS,
    updatable=USER_UPDATES.columns,
)


class UserRepository(BaseRepository[User]):
    """Users; email is unique case-insensitively (``users_email_key`` on ``lower(email)``)."""

    mapping = USER_MAPPING

    async def create(self, new: NewUser, password_hash: str) -> User:
        """Insert with a computed hash; duplicate email (any case) -> AlreadyExists(field="email")."""
        values = {
            "email": new.email,
            "display_name": new.display_name,
            "role": new.role,
            PASSWORD_HASH: password_hash,
        }
        return await self.insert_one(_stored(values))

    async def update(self, id: UUID, changes: Mapping[str, Any], *, expected_version: int | None) -> User:
        """Set ``changes`` (email, display_name, role, password_hash); NotFound / EtagMismatch."""
        return await self.update_fields(id, _stored(changes), expected_version=expected_version)

    async def list(self, query: ListQuery) -> Page[User]:
        """A keyset page; bad filter / order_by / page_token -> InvalidArgument."""
        return await self.list_page(query)

    async def credentials(self, email: str) -> StoredCredentials | None:
        """The live (not deleted) user with this email, any case, and their hash; None if there is none."""
        with self.operation("credentials"):
            query = (
                self._select()
                .select(col(PASSWORD_HASH))
                .where(lower(col("email")).eq(lower(email)), col("delete_time").is_null())
            )
            row = await self.fetch_one(query)
            if row is None:
                return None
            return StoredCredentials(self.mapping.from_row(row), row[PASSWORD_HASH])

    async def replace_password_hash(self, id: UUID, old_hash: str, new_hash: str) -> bool:
        """Swap a hash for a stronger one of the same password (a rehash); False if it changed meanwhile.

        Not a change callers can see, so version and update_time stay as they
        are and etags held by callers stay valid.
        """
        with self.operation("rehash"):
            statement = (
                update(self.mapping.table)
                .set({PASSWORD_HASH: new_hash})
                .where(self._id().eq(id), col(PASSWORD_HASH).eq(old_hash))
            )
            return await self.execute(statement) == 1


def _stored(values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values as stored: enums by their value ('admin'), the rest unchanged."""
    return {name: value.value if isinstance(value, Enum) else value for name, value in values.items()}
