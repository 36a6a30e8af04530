"""Keyset ("seek") pagination: the condition that selects the rows after a cursor.

With sort keys ``k1 .. kn`` (the last one unique, normally ``id``) and the
cursor's values ``v1 .. vn``, the rows after the cursor are

* ``(k1, ..., kn) > (v1, ..., vn)`` when every key sorts ascending
  (``<`` when every key sorts descending) — one row comparison that an index
  on the same keys can serve; and otherwise
* ``k1 > v1 OR (k1 = v1 AND k2 < v2) OR ...``, each key compared in its own
  direction, because a row comparison cannot mix directions.

Keys must not be NULL (keyset paging over NULLs needs NULLS-aware logic that
none of our sortable fields require).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inventory_server.db.query.conditions import Condition, and_, or_
from inventory_server.db.query.expressions import OrderItem, Param, Row


def keyset_after(keys: Sequence[OrderItem], cursor: Sequence[Any]) -> Condition:
    """The condition for rows strictly after ``cursor`` in the order ``keys``.

    >>> from inventory_server.db.query import col
    >>> keys = [col("name").asc(), col("id").asc()]
    >>> keyset_after(keys, ["Bolt", 7]).as_string()
    '("name", "id") > (%s, %s)'
    >>> keyset_after([col("price").desc(), col("id").asc()], [100, 7]).as_string()
    '"price" < %s OR ("price" = %s AND "id" > %s)'
    """
    if not keys or len(keys) != len(cursor):
        raise ValueError("keyset pagination needs one cursor value per sort key")
    if any(value is None for value in cursor):
        raise ValueError("keyset cursor values must not be NULL")
    directions = {key.direction for key in keys}
    if len(directions) == 1:
        left = Row(tuple(key.expr for key in keys))
        right = Row(tuple(Param(value) for value in cursor))
        return left.gt(right) if directions == {"ASC"} else left.lt(right)
    branches: list[Condition | None] = []
    for index, key in enumerate(keys):
        equal_prefix = [keys[i].expr.eq(cursor[i]) for i in range(index)]
        beyond = key.expr.gt(cursor[index]) if key.direction == "ASC" else key.expr.lt(cursor[index])
        branches.append(and_(*equal_prefix, beyond))
    return or_(*branches)
