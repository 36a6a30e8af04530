"""TableMapping refuses descriptions BaseRepository could not work with."""

from __future__ import annotations

from typing import Any

import pytest

from inventory_server.db.listing import FieldSpec, ResourceFields
from inventory_server.repositories.mapping import TableMapping
from inventory_server.repositories.products import PRODUCT_COLUMNS, PRODUCT_MAPPING, product_from_row

FIELDS = ResourceFields("things", (FieldSpec("name", "name", "text", sortable=True),))


def _identity(row: Any) -> Any:
    return row


def test_mapping_needs_its_bookkeeping_columns() -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        TableMapping("things", "thing", ("id", "name"), _identity, FIELDS)


def test_mapping_and_list_fields_must_agree_on_soft_delete() -> None:
    columns = ("id", "name", "version", "update_time", "delete_time")
    with pytest.raises(ValueError, match="soft delete"):
        TableMapping("things", "thing", columns, _identity, FIELDS, soft_delete_column=None)


def test_product_mapping_reads_every_product_field() -> None:
    row = {name: name for name in PRODUCT_COLUMNS}
    product = product_from_row(row)
    assert product.sku == "sku"
    assert product.attributes == "attributes"  # type: ignore[comparison-overlap]
    assert PRODUCT_MAPPING.updatable >= {"name", "attributes"}
    assert "sku" not in PRODUCT_MAPPING.updatable
