"""Fixtures for the list translator's unit tests."""

from __future__ import annotations

import pytest

from inventory_server.db.listing import FieldSpec, ResourceFields

THING_FIELDS = ResourceFields(
    "things",
    (
        FieldSpec("sku", "sku", "text", sortable=True),
        FieldSpec("name", "name", "text", sortable=True),
        FieldSpec("qty", "qty_col", "int", sortable=True),
        FieldSpec("active", "active", "bool"),
        FieldSpec("create_time", "create_time", "timestamp", sortable=True),
        FieldSpec("owner", "owner_id", "uuid"),
        FieldSpec("role", "role", "enum", enum_values=("viewer", "admin")),
        FieldSpec("attributes", "attributes", "json"),
        FieldSpec("secret", "secret", "text", filterable=False),
    ),
    default_order="create_time",
)


@pytest.fixture
def fields() -> ResourceFields:
    """A product-like allow-list covering every field type."""
    return THING_FIELDS
