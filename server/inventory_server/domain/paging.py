"""List requests and pages, independent of the transport."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from inventory_server.domain.errors import InvalidArgument

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What a List call asks for. ``page_size`` is already normalised (1..MAX_PAGE_SIZE)."""

    page_size: int = DEFAULT_PAGE_SIZE
    page_token: str = ""
    filter: str = ""
    order_by: str = ""
    show_deleted: bool = False

    @classmethod
    def from_request(
        cls,
        page_size: int,
        page_token: str = "",
        filter: str = "",
        order_by: str = "",
        show_deleted: bool = False,
    ) -> ListQuery:
        """Apply AIP-158 page size rules: 0 -> default, over max -> max, negative -> INVALID_ARGUMENT."""
        if page_size < 0:
            raise InvalidArgument.field("page_size", "must not be negative")
        size = DEFAULT_PAGE_SIZE if page_size == 0 else min(page_size, MAX_PAGE_SIZE)
        return cls(size, page_token, filter, order_by, show_deleted)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results; ``next_page_token`` is empty on the last page."""

    items: list[T]
    next_page_token: str = ""
