"""An immutable, parameterised query builder over ``psycopg.sql``.

Every call returns a new object; ``build()`` gives ``(sql.Composed, params)``
ready for ``cursor.execute`` and ``as_string()`` readable SQL. Identifiers are
always quoted and values always bound as ``%s`` parameters.

>>> q = select("id", "sku").from_("products").where(col("sku").eq("A-1"))
>>> q.as_string()
'SELECT "id", "sku" FROM "products" WHERE "sku" = %s'
>>> q.build()[1]
['A-1']
"""

from inventory_server.db.query.base import Node, Params, Statement
from inventory_server.db.query.clauses import CommonTable, Lock
from inventory_server.db.query.conditions import (
    FALSE,
    TRUE,
    AnyOf,
    BoolOp,
    Compare,
    Condition,
    Exists,
    InList,
    InSubquery,
    IsNull,
    Not,
    Truth,
    and_,
    and_where,
    escape_like,
    exists,
    not_,
    or_,
)
from inventory_server.db.query.expressions import (
    NULL,
    Aliased,
    Arithmetic,
    Cast,
    Column,
    ComparisonOp,
    Direction,
    Expr,
    Keyword,
    OrderItem,
    Param,
    Row,
    Star,
    Subquery,
    col,
    to_expr,
)
from inventory_server.db.query.functions import Func, Window, coalesce, count, func, lower, now
from inventory_server.db.query.insert import Insert, OnConflict, excluded, insert
from inventory_server.db.query.keyset import keyset_after
from inventory_server.db.query.modify import Delete, Update, delete, update
from inventory_server.db.query.select import Compound, Query, Select, select
from inventory_server.db.query.tables import AliasedQuery, Join, Table, table

__all__ = [
    "FALSE",
    "NULL",
    "TRUE",
    "Aliased",
    "AliasedQuery",
    "AnyOf",
    "Arithmetic",
    "BoolOp",
    "Cast",
    "Column",
    "CommonTable",
    "Compare",
    "ComparisonOp",
    "Compound",
    "Condition",
    "Delete",
    "Direction",
    "Exists",
    "Expr",
    "Func",
    "InList",
    "InSubquery",
    "Insert",
    "IsNull",
    "Join",
    "Keyword",
    "Lock",
    "Node",
    "Not",
    "OnConflict",
    "OrderItem",
    "Param",
    "Params",
    "Query",
    "Row",
    "Select",
    "Star",
    "Statement",
    "Subquery",
    "Table",
    "Truth",
    "Update",
    "Window",
    "and_",
    "and_where",
    "coalesce",
    "col",
    "count",
    "delete",
    "escape_like",
    "excluded",
    "exists",
    "func",
    "insert",
    "keyset_after",
    "lower",
    "not_",
    "now",
    "or_",
    "select",
    "table",
    "to_expr",
    "update",
]
