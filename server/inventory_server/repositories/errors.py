"""Database errors become domain errors here, and only here.

Every repository call runs inside ``with self.operation(...)`` (see
``repositories.executor``), which hands psycopg errors to
:func:`translate_db_error`. Integrity and data errors are the caller's
business and become domain errors; anything else (lost connections,
serialization failures, deadlocks, cancellations) is left untouched for the
unit of work, which retries or maps it to Unavailable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import psycopg
from psycopg import errors as pg

from inventory_server.domain.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
)

# Unique constraint or index name -> (resource, field) named in ALREADY_EXISTS.
UNIQUE_FIELDS: Mapping[str, tuple[str, str]] = {
    "products_sku_key": ("product", "sku"),
    "products_pkey": ("product", "id"),
    "warehouses_code_key": ("warehouse", "code"),
    "warehouses_pkey": ("warehouse", "id"),
    "users_email_key": ("user", "email"),
    "users_pkey": ("user", "id"),
    "stock_levels_pkey": ("stock_level", "product_id"),
    "stock_transactions_pkey": ("transaction", "id"),
    "idempotency_keys_pkey": ("request", "request_id"),
}

# Foreign key name -> (referenced resource, referencing field).
REFERENCES: Mapping[str, tuple[str, str]] = {
    "stock_levels_product_id_fkey": ("product", "product_id"),
    "stock_levels_warehouse_id_fkey": ("warehouse", "warehouse_id"),
    "stock_transactions_product_id_fkey": ("product", "product_id"),
    "stock_transactions_from_warehouse_id_fkey": ("warehouse", "from_warehouse_id"),
    "stock_transactions_to_warehouse_id_fkey": ("warehouse", "to_warehouse_id"),
    "stock_transactions_performed_by_fkey": ("user", "performed_by"),
    "stock_transactions_reservation_id_fkey": ("reservation", "reservation_id"),
    "stock_transactions_type_fkey": ("transaction_type", "type"),
}

# CHECK constraints that guard stock invariants -> what the caller is told.
STOCK_CHECKS: Mapping[str, str] = {
    "stock_levels_on_hand_nonnegative": "not enough stock on hand",
    "stock_levels_reserved_range": "reserved stock must stay between 0 and the stock on hand",
}

_KEY_VALUE = re.compile(r"^Key \((?P<columns>.*)\)=\((?P<value>.*)\) (?:already exists|is not present)")
_REFERENCED_FROM = re.compile(r'is still referenced from table "(?P<table>[^"]+)"')


def translate_db_error(
    exc: psycopg.Error, unique_fields: Mapping[str, tuple[str, str]] = UNIQUE_FIELDS
) -> DomainError | None:
    """The domain error ``exc`` stands for, or None when it is not the caller's doing."""
    constraint = exc.diag.constraint_name or ""
    if isinstance(exc, pg.UniqueViolation):
        resource, field = unique_fields.get(constraint, (exc.diag.table_name or "resource", "key"))
        return AlreadyExists(resource, field, _key_value(exc))
    if isinstance(exc, pg.ForeignKeyViolation):
        return _foreign_key(exc, constraint)
    if isinstance(exc, pg.CheckViolation):
        return _check(constraint)
    if isinstance(exc, pg.NotNullViolation):
        return InvalidArgument.field(exc.diag.column_name or "value", "is required")
    if isinstance(exc, pg.RestrictViolation):
        return FailedPrecondition(
            exc.diag.message_primary or "the change is not allowed", reason="CHANGE_NOT_ALLOWED"
        )
    if isinstance(exc, psycopg.DataError):
        return InvalidArgument(f"invalid value: {exc.diag.message_primary or _first_line(exc)}")
    return None


def _key_value(exc: psycopg.Error) -> str:
    match = _KEY_VALUE.match(exc.diag.message_detail or "")
    return match.group("value") if match else ""


def _foreign_key(exc: psycopg.Error, constraint: str) -> DomainError:
    resource, field = REFERENCES.get(constraint, (exc.diag.table_name or "resource", "reference"))
    referenced_from = _REFERENCED_FROM.search(exc.diag.message_detail or "")
    if referenced_from:
        table = referenced_from.group("table")
        return FailedPrecondition(
            f"the {exc.diag.table_name or 'resource'} is still referenced by {table}",
            reason="STILL_REFERENCED",
            violations=[PreconditionViolation("REFERENCE", table, "remove the references first")],
        )
    key = _key_value(exc)
    return NotFound(resource, key, message=f"{resource} {key!r} (from {field}) not found")


def _check(constraint: str) -> DomainError:
    if constraint in STOCK_CHECKS:
        description = STOCK_CHECKS[constraint]
        return FailedPrecondition(
            description,
            reason="INSUFFICIENT_STOCK",
            violations=[PreconditionViolation("STOCK", "stock_level", description)],
        )
    return FailedPrecondition(
        f"the change violates the rule {constraint or 'of a check constraint'}",
        reason="CONSTRAINT_VIOLATION",
        violations=[PreconditionViolation("CONSTRAINT", constraint, "a database rule refused the change")],
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
