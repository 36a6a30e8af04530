"""Warehouse entity and the values used to create and change one."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from inventory_server.domain.errors import ErrorDetails
from inventory_server.domain.updates import UpdateRules
from inventory_server.domain.versioned import Versioned

# Letters, digits, '.', '_', '-'; starts with a letter or digit; 1-64 characters (the column allows 64).
CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}")
MAX_NAME_LENGTH = 200
MAX_ADDRESS_LENGTH = 1000

# Fields that UpdateWarehouse may change; code is immutable, the rest output only.
UPDATABLE_FIELDS = frozenset({"name", "address"})


@dataclass(frozen=True, slots=True)
class Warehouse(Versioned):
    """A place where stock is kept; ``version`` backs the etag."""

    id: UUID
    code: str
    name: str
    address: str
    create_time: datetime
    update_time: datetime
    delete_time: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class NewWarehouse:
    """What CreateWarehouse needs."""

    code: str
    name: str
    address: str = ""

    def validate(self, prefix: str = "warehouse") -> None:
        """Raise InvalidArgument naming every bad field."""
        errors = ErrorDetails()
        if not CODE_PATTERN.fullmatch(self.code):
            errors.add(f"{prefix}.code", "must be 1-64 characters: letters, digits, '.', '_', '-'")
        validate_changes({"name": self.name, "address": self.address}, errors, prefix)
        errors.raise_if_any()


def validate_changes(changes: Mapping[str, object], errors: ErrorDetails, prefix: str = "warehouse") -> None:
    """Check the updatable fields present in ``changes``; add a violation for each bad one."""
    if "name" in changes:
        name = str(changes["name"])
        if not name.strip() or len(name) > MAX_NAME_LENGTH:
            errors.add(f"{prefix}.name", f"must be 1-{MAX_NAME_LENGTH} characters and not blank")
    if "address" in changes and len(str(changes["address"])) > MAX_ADDRESS_LENGTH:
        errors.add(f"{prefix}.address", f"must be at most {MAX_ADDRESS_LENGTH} characters")


# UpdateWarehouse's rules, used by the servicer, the service and the repository.
WAREHOUSE_UPDATES = UpdateRules("warehouse", UPDATABLE_FIELDS, validate_changes)
