"""How the list translator reports bad input: InvalidArgument naming the request field."""

from __future__ import annotations

from inventory_server.domain.errors import FieldViolation, InvalidArgument


def invalid(request_field: str, description: str) -> InvalidArgument:
    """An InvalidArgument for ``request_field`` ("filter", "order_by" or "page_token")."""
    violation = FieldViolation(request_field, description)
    return InvalidArgument(f"{request_field}: {description}", violations=[violation])


def at(position: int) -> str:
    """Where a token starts, for messages: positions count characters from 1."""
    return f"at position {position + 1}"
