"""Product entity and the values used to create and change one."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from inventory_server.domain.errors import ErrorDetails
from inventory_server.domain.updates import UpdateRules
from inventory_server.domain.versioned import Versioned

SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 4000
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_LENGTH = 200

# Fields that UpdateProduct may change; everything else is immutable or output only.
UPDATABLE_FIELDS = frozenset(
    {"name", "description", "unit_price_minor", "currency_code", "reorder_point", "attributes"}
)


@dataclass(frozen=True, slots=True)
class Product(Versioned):
    id: UUID
    sku: str
    name: str
    description: str
    unit_price_minor: int
    currency_code: str
    reorder_point: int
    attributes: dict[str, str]
    create_time: datetime
    update_time: datetime
    delete_time: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class NewProduct:
    sku: str
    name: str
    description: str = ""
    unit_price_minor: int = 0
    currency_code: str = ""
    reorder_point: int = 0
    attributes: dict[str, str] = field(default_factory=dict)

    def validate(self, prefix: str = "product") -> None:
        """Raise InvalidArgument naming every bad field."""
        errors = ErrorDetails()
        if not SKU_PATTERN.match(self.sku):
            errors.add(f"{prefix}.sku", "must be 1-64 characters: letters, digits, '.', '_', '-', '/'")
        validate_changes(_as_changes(self), errors, prefix)
        errors.raise_if_any()


def _as_changes(p: NewProduct) -> dict[str, object]:
    return {
        "name": p.name,
        "description": p.description,
        "unit_price_minor": p.unit_price_minor,
        "currency_code": p.currency_code,
        "reorder_point": p.reorder_point,
        "attributes": p.attributes,
    }


def validate_changes(changes: Mapping[str, object], errors: ErrorDetails, prefix: str = "product") -> None:
    """Check the updatable fields present in ``changes``; add a violation for each bad one."""
    if "name" in changes:
        name = str(changes["name"])
        if not name.strip() or len(name) > MAX_NAME_LENGTH:
            errors.add(f"{prefix}.name", f"must be 1-{MAX_NAME_LENGTH} characters and not blank")
    if "description" in changes and len(str(changes["description"])) > MAX_DESCRIPTION_LENGTH:
        errors.add(f"{prefix}.description", f"must be at most {MAX_DESCRIPTION_LENGTH} characters")
    for name in ("unit_price_minor", "reorder_point"):
        value = changes.get(name, 0)
        if not isinstance(value, int) or value < 0:
            errors.add(f"{prefix}.{name}", "must not be negative")
    currency = changes.get("currency_code", "")
    if currency and not CURRENCY_PATTERN.match(str(currency)):
        errors.add(f"{prefix}.currency_code", "must be an ISO 4217 code such as 'EUR', or empty")
    attributes = changes.get("attributes", {})
    if isinstance(attributes, dict):
        if len(attributes) > MAX_ATTRIBUTES:
            errors.add(f"{prefix}.attributes", f"at most {MAX_ATTRIBUTES} attributes")
        for key, value in attributes.items():
            if not key or len(key) > MAX_ATTRIBUTE_LENGTH or len(value) > MAX_ATTRIBUTE_LENGTH:
                errors.add(
                    f"{prefix}.attributes",
                    f"keys 1-{MAX_ATTRIBUTE_LENGTH} characters, values at most {MAX_ATTRIBUTE_LENGTH}",
                )
                break


# UpdateProduct's rules, used by the servicer, the service and the repository.
PRODUCT_UPDATES = UpdateRules("product", UPDATABLE_FIELDS, validate_changes)
