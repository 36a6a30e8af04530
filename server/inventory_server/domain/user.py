"""User entity, roles, and the rules for emails and passwords.

The password hash is not part of :class:`User`: it is read only on the
authentication path, as :class:`StoredCredentials`, whose repr leaves it out.
Nothing that is returned, logged or formatted from a ``User`` can carry it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from inventory_server.domain.errors import ErrorDetails
from inventory_server.domain.updates import UpdateRules
from inventory_server.domain.versioned import Versioned

# Deliberately loose (RFC 5321 addresses are too varied to match exactly): one '@', no spaces,
# a dot in the domain. The mailbox itself is what proves an address.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
MIN_EMAIL_LENGTH = 3
MAX_EMAIL_LENGTH = 320
MAX_EMAIL_LOCAL_LENGTH = 64
MAX_DISPLAY_NAME_LENGTH = 200
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

# Fields that UpdateUser may change ("password" sets a new password hash).
UPDATABLE_FIELDS = frozenset({"email", "display_name", "role", "password"})
# The User fields an empty update mask stands for (the password only when one is sent).
PROFILE_FIELDS = frozenset({"email", "display_name", "role"})
ROLE_REQUIRED = "is required: ROLE_VIEWER, ROLE_CLERK, ROLE_MANAGER or ROLE_ADMIN"


class Role(StrEnum):
    """What a user may do; the value is what the ``users.role`` column stores."""

    VIEWER = "viewer"
    CLERK = "clerk"
    MANAGER = "manager"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User(Versioned):
    """A member of staff, without any secret: safe to return, log and repr."""

    id: UUID
    email: str
    display_name: str
    role: Role
    create_time: datetime
    update_time: datetime
    delete_time: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class StoredCredentials:
    """A live user and their password hash, for verifying a login; the hash stays out of repr."""

    user: User
    password_hash: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class NewUser:
    """What CreateUser needs besides the password (which is validated and hashed on its own)."""

    email: str
    role: Role | None
    display_name: str = ""

    def validate(self, prefix: str = "user") -> None:
        """Raise InvalidArgument naming every bad field."""
        errors = ErrorDetails()
        validate_changes(self.changes(), errors, prefix)
        errors.raise_if_any()

    def changes(self) -> dict[str, object]:
        """The profile fields as a change set (what ``validate_changes`` checks)."""
        return {"email": self.email, "display_name": self.display_name, "role": self.role}


def validate_changes(changes: Mapping[str, object], errors: ErrorDetails, prefix: str = "user") -> None:
    """Check the fields present in ``changes``; add a violation for each bad one.

    A "password" (plaintext, on its way to be hashed) is named without the
    prefix, as the request carries it beside the user, and never echoed.
    """
    if "email" in changes:
        problem = email_problem(str(changes["email"]))
        if problem:
            errors.add(f"{prefix}.email", problem)
    if "display_name" in changes and len(str(changes["display_name"])) > MAX_DISPLAY_NAME_LENGTH:
        errors.add(f"{prefix}.display_name", f"must be at most {MAX_DISPLAY_NAME_LENGTH} characters")
    if "role" in changes and not isinstance(changes["role"], Role):
        errors.add(f"{prefix}.role", ROLE_REQUIRED)
    if "password" in changes:
        problem = password_problem(str(changes["password"]))
        if problem:
            errors.add("password", problem)


def email_problem(email: str) -> str | None:
    """Why ``email`` is not acceptable, or None when it is."""
    if not MIN_EMAIL_LENGTH <= len(email) <= MAX_EMAIL_LENGTH:
        return f"must be {MIN_EMAIL_LENGTH}-{MAX_EMAIL_LENGTH} characters"
    if not EMAIL_PATTERN.fullmatch(email) or not email.isprintable():
        return "must be an email address such as 'name@example.com'"
    if len(email.rsplit("@", 1)[0]) > MAX_EMAIL_LOCAL_LENGTH:
        return f"the part before '@' must be at most {MAX_EMAIL_LOCAL_LENGTH} characters"
    return None


def password_problem(password: str) -> str | None:
    """Why ``password`` does not meet the policy, or None when it does. Never echoes the password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters"
    return None


# UpdateUser's rules, used by the servicer, the service and the repository: an empty mask
# stands for the profile fields; a password is stored as its hash.
USER_UPDATES = UpdateRules(
    "user",
    UPDATABLE_FIELDS,
    validate_changes,
    default=PROFILE_FIELDS,
    stored_as={"password": "password_hash"},
)
