"""A List request turned into SQL pieces: WHERE, ORDER BY, LIMIT, and the next page token."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from inventory_server.db.listing.fields import ResourceFields
from inventory_server.db.listing.filters import parse_filter
from inventory_server.db.listing.ordering import SortKey, parse_order_by
from inventory_server.db.listing.tokens import decode_token, encode_token, fingerprint
from inventory_server.db.query import Condition, OrderItem, Select, and_where, col, keyset_after
from inventory_server.domain.paging import ListQuery

RowT = TypeVar("RowT", bound=Mapping[str, Any])


@dataclass(frozen=True, slots=True)
class ListPlan:
    """What one List call runs: ``apply`` it to a SELECT, then ``split`` the rows it returns.

    >>> from inventory_server.db.listing.fields import FieldSpec
    >>> from inventory_server.db.query import select
    >>> fields = ResourceFields("things", (FieldSpec("qty", "qty", "int", sortable=True),))
    >>> plan = plan_list(fields, ListQuery(page_size=2, filter="qty > 1", order_by="qty desc"))
    >>> print(plan.apply(select("id", "qty").from_("things")).as_string())  # doctest: +NORMALIZE_WHITESPACE
    SELECT "id", "qty" FROM "things" WHERE "qty" > %s AND "delete_time" IS NULL
    ORDER BY "qty" DESC, "id" DESC LIMIT %s
    """

    where: Condition | None
    sort_keys: tuple[SortKey, ...]
    page_size: int
    fingerprint: str

    @property
    def order_by(self) -> tuple[OrderItem, ...]:
        return tuple(OrderItem(spec.expr, direction) for spec, direction in self.sort_keys)

    def apply(self, query: Select) -> Select:
        """``query`` with this plan's conditions, order and ``LIMIT page_size + 1``."""
        return query.where(self.where).order_by(*self.order_by).limit(self.page_size + 1)

    def split(self, rows: Sequence[RowT]) -> tuple[list[RowT], str]:
        """The rows of this page and the token for the next one ("" on the last page)."""
        if len(rows) <= self.page_size:
            return list(rows), ""
        page = list(rows[: self.page_size])
        last = page[-1]
        specs = [spec for spec, _ in self.sort_keys]
        return page, encode_token(self.fingerprint, specs, [last[spec.column] for spec in specs])


def plan_list(
    fields: ResourceFields,
    query: ListQuery,
    *,
    base_where: Condition | None = None,
    extra: Mapping[str, object] | None = None,
) -> ListPlan:
    """Translate ``query`` for ``fields``; InvalidArgument names filter, order_by or page_token.

    ``base_where`` is ANDed in (for example a parent scope); ``extra`` holds any
    other request parameters that shape the result, so a token cannot be
    replayed against different ones.
    """
    condition = parse_filter(query.filter, fields)
    sort_keys = parse_order_by(query.order_by, fields)
    visible = None
    if fields.soft_delete_column and not query.show_deleted:
        visible = col(fields.soft_delete_column).is_null()
    shape: dict[str, object] = {
        "filter": query.filter.strip(),
        "order_by": [(spec.name, direction) for spec, direction in sort_keys],
        "extra": dict(extra or {}),
    }
    if fields.show_deleted_in_token:
        shape["show_deleted"] = query.show_deleted
    print_of_shape = fingerprint(fields.resource, shape)
    after = None
    if query.page_token:
        cursor = decode_token(query.page_token, print_of_shape, [spec for spec, _ in sort_keys])
        after = keyset_after([OrderItem(spec.expr, direction) for spec, direction in sort_keys], cursor)
    where = and_where(None, [base_where, condition, visible, after])
    return ListPlan(where, sort_keys, query.page_size, print_of_shape)
