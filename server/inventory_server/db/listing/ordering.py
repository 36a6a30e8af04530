"""Parse ``order_by`` ("field desc, other") over a resource's allow-list.

The key fields (the id, or every column of a composite key) always end the
order as the tie-breaker, so every row has a unique position and keyset pages
never skip or repeat a row. Each takes the direction of the key before it,
which keeps single-direction orders servable by one row comparison.

>>> fields = ResourceFields("things", (FieldSpec("name", "name", "text", sortable=True),))
>>> [(spec.name, direction) for spec, direction in parse_order_by("name desc", fields)]
[('name', 'DESC'), ('id', 'DESC')]
"""

from __future__ import annotations

import re

from inventory_server.db.listing.errors import at, invalid
from inventory_server.db.listing.fields import FieldSpec, ResourceFields
from inventory_server.db.query import Direction

SortKey = tuple[FieldSpec, Direction]

MAX_ORDER_BY_LENGTH = 500
_WORD = re.compile(r"\S+")


def parse_order_by(source: str, fields: ResourceFields) -> tuple[SortKey, ...]:
    """Sort keys for ``source`` (or the resource's default order), key last; InvalidArgument when bad."""
    if len(source) > MAX_ORDER_BY_LENGTH:
        raise invalid("order_by", f"longer than {MAX_ORDER_BY_LENGTH} characters")
    text = source if source.strip() else fields.default_order
    keys = _parse_keys(text, fields) if text.strip() else []
    for key_spec in fields.key:
        if all(spec.name != key_spec.name for spec, _ in keys):
            keys.append((key_spec, keys[-1][1] if keys else "ASC"))
    return tuple(keys)


def _parse_keys(text: str, fields: ResourceFields) -> list[SortKey]:
    keys: list[SortKey] = []
    seen: set[str] = set()
    offset = 0
    for segment in text.split(","):
        words = [(m.group(), offset + m.start()) for m in _WORD.finditer(segment)]
        end = offset + len(segment)
        offset = end + 1
        if not words:
            raise invalid("order_by", f"empty sort key {at(end)}")
        if len(words) > 2:
            word, position = words[2]
            raise invalid("order_by", f"unexpected {word!r} {at(position)}; write 'field' or 'field desc'")
        (name, position), direction = words[0], _direction(words[1] if len(words) == 2 else None)
        spec = fields.find(name)
        if spec is None or not spec.sortable:
            known = ", ".join(fields.sortable_names())
            raise invalid(
                "order_by", f"cannot sort by {_shown(name)} {at(position)}; sort by one of: {known}"
            )
        if spec.name in seen:
            raise invalid("order_by", f"field {spec.name!r} appears twice {at(position)}")
        seen.add(spec.name)
        keys.append((spec, direction))
    return keys


def _direction(word: tuple[str, int] | None) -> Direction:
    if word is None:
        return "ASC"
    text, position = word
    if text.lower() == "desc":
        return "DESC"
    if text.lower() == "asc":
        return "ASC"
    raise invalid("order_by", f"expected 'asc' or 'desc' {at(position)}, found {_shown(text)}")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")
