"""List requests to SQL: AIP-160 filters, order_by, and keyset page tokens over an allow-list.

Typical use in a repository::

    plan = plan_list(PRODUCT_FIELDS, list_query)
    rows = await fetch(plan.apply(select(*columns).from_("products")))
    page_rows, next_token = plan.split(rows)
"""

from inventory_server.db.listing.fields import FieldSpec, FieldType, ResourceFields
from inventory_server.db.listing.filters import parse_filter
from inventory_server.db.listing.ordering import SortKey, parse_order_by
from inventory_server.db.listing.plan import ListPlan, plan_list
from inventory_server.db.listing.tokens import decode_token, encode_token, fingerprint

__all__ = [
    "FieldSpec",
    "FieldType",
    "ListPlan",
    "ResourceFields",
    "SortKey",
    "decode_token",
    "encode_token",
    "fingerprint",
    "parse_filter",
    "parse_order_by",
    "plan_list",
]
