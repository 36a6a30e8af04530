"""A one-level stock movement in one statement: claim, references, guarded level change, ledger row.

The step-by-step path (``services.stock_movements``) costs a round trip per
step. ``StockMoveRepository.apply`` does the common case of a receipt, a
shipment, a reservation or a delta adjustment in **one** statement of
data-modifying CTEs, in the order the step-by-step path takes its locks::

    WITH "claim" AS (INSERT INTO idempotency_keys ... ON CONFLICT DO NOTHING RETURNING scope),
         "checks" AS (SELECT EXISTS (SELECT FROM claim) AS claimed,
                             EXISTS (SELECT ... FOR KEY SHARE) AS ref0, ...),
         "level" AS (UPDATE stock_levels SET ... WHERE <key> AND <guard>
                     AND EXISTS (SELECT FROM checks WHERE claimed AND ref0 AND ...) RETURNING ...),
         "ledger" AS (INSERT INTO stock_transactions (...) SELECT ... FROM "level" RETURNING ...)
    SELECT ... FROM checks LEFT JOIN level ON TRUE LEFT JOIN ledger ON TRUE

The order of the locks is the step-by-step path's. The main query reads
``checks`` first, whose select list is evaluated left to right: the
request_id is claimed first (a concurrent claim of the same key waits here
for the first transaction, as ``IdempotencyRepository.claim`` does), then the
references are locked ``FOR KEY SHARE``. The level's gate is an uncorrelated
sub-select, a one-time filter PostgreSQL runs before the UPDATE scans, so the
level row is locked and changed only after both; the ledger row is inserted
only from the level row the change returned. So the
statement either does everything or nothing but the claim, and says which:
when it did not finish, the caller runs the step-by-step path in the same
transaction, which finds its own claim (it still owns the key), and which
knows how to replay a stored response, name the missing reference and report
what was available.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.rows import dict_row

from inventory_server.db.query import (
    TRUE,
    Aliased,
    Cast,
    Param,
    Select,
    Statement,
    Truth,
    col,
    excluded,
    exists,
    insert,
    now,
    select,
    table,
)
from inventory_server.domain.stock import LevelKey
from inventory_server.domain.transaction import NewTransaction
from inventory_server.repositories.executor import StatementExecutor
from inventory_server.repositories.idempotency import claim_statement
from inventory_server.repositories.stock_interfaces import Claim, LevelMove, LevelMoveOutcome, Reference
from inventory_server.repositories.stock_levels import LEVEL_COLUMNS, guarded_change, level_from_row
from inventory_server.repositories.transactions import REFERENCE_TABLES, TRANSACTION_MAPPING

# The ledger columns written, with their SQL types: the values are a SELECT list, where
# PostgreSQL would take an untyped parameter for text.
LEDGER_TYPES = (
    ("type", "text"),
    ("product_id", "uuid"),
    ("from_warehouse_id", "uuid"),
    ("to_warehouse_id", "uuid"),
    ("quantity", "bigint"),
    ("reservation_id", "uuid"),
    ("reference", "text"),
    ("reason", "text"),
    ("performed_by", "uuid"),
    ("caller", "text"),
    ("request_id", "text"),
    ("expire_time", "timestamptz"),
)


def _ledger_dict(row: NewTransaction) -> dict[str, Any]:
    return {
        "type": row.type.value,
        "product_id": row.product_id,
        "from_warehouse_id": row.from_warehouse_id,
        "to_warehouse_id": row.to_warehouse_id,
        "quantity": row.quantity,
        "reservation_id": row.reservation_id,
        "reference": row.reference,
        "reason": row.reason,
        "performed_by": row.performed_by,
        "caller": row.caller,
        "request_id": row.request_id,
        "expire_time": row.expire_time,
    }


def _ledger_values(values: dict[str, Any]) -> list[Cast]:
    return [Cast(Param(values[name]), sql_type) for name, sql_type in LEDGER_TYPES]


@dataclass(frozen=True, slots=True)
class _Slot:
    """A named stand-in for a value: a statement's SQL is built once per shape with slots."""

    name: str


# (claimed?, reference tables, upsert?) -> the SQL and its parameters (slots or constants).
_COMPILED: dict[tuple[bool, tuple[str, ...], bool], tuple[str, list[Any]]] = {}


def _compiled(move: LevelMove) -> tuple[str, list[Any]]:
    """``move_statement(move)`` as SQL text and parameters, the text built once per shape.

    Building the statement with the query builder costs milliseconds of CPU
    (dozens of nodes composed and rendered); a movement runs it on every call,
    so the SQL of each shape is built once, with slots for the values, and the
    slots are filled per call. (The same text also lets psycopg prepare it.)
    """
    shape = (move.claim is not None, tuple(ref.resource for ref in move.references), move.upsert)
    compiled = _COMPILED.get(shape)
    if compiled is None:
        slot: Any = _Slot
        template = LevelMove(
            Claim(slot("scope"), slot("request_id"), slot("fingerprint")) if move.claim is not None else None,
            [Reference(ref.resource, ref.field, slot(f"ref{i}")) for i, ref in enumerate(move.references)],
            LevelKey(slot("warehouse_id"), slot("product_id")),
            slot("on_hand"),
            slot("reserved"),
            move.upsert,
            move.row,
        )
        query, params = move_statement(
            template, ledger_values={name: slot(f"ledger_{name}") for name, _ in LEDGER_TYPES}
        ).build()
        compiled = (query.as_string(None), list(params))
        _COMPILED[shape] = compiled
    values: dict[str, Any] = {
        "warehouse_id": move.key.warehouse_id,
        "product_id": move.key.product_id,
        "on_hand": move.on_hand,
        "reserved": move.reserved,
        **{f"ref{i}": ref.id for i, ref in enumerate(move.references)},
        **{f"ledger_{name}": value for name, value in _ledger_dict(move.row).items()},
    }
    if move.claim is not None:
        values.update(
            scope=move.claim.scope, request_id=move.claim.request_id, fingerprint=move.claim.fingerprint
        )
    text, template_params = compiled
    return text, [values[p.name] if isinstance(p, _Slot) else p for p in template_params]


def move_statement(move: LevelMove, *, ledger_values: dict[str, Any] | None = None) -> Select:
    """The one statement of ``move`` (module docstring); ``ledger_values``: the row's values instead."""
    checks: list[Aliased] = []
    if move.claim is not None:
        # First in the select list, so evaluated (and waited for) before the references are locked.
        checks.append(exists(select(TRUE).from_("claim")).as_("claimed"))
    checks.extend(
        exists(
            select(TRUE)
            .from_(REFERENCE_TABLES[ref.resource])
            .where(col("id").eq(ref.id), col("delete_time").is_null())
            .for_key_share()
        ).as_(f"ref{index}")
        for index, ref in enumerate(move.references)
    )
    gate = exists(select(TRUE).from_("checks").where(*(Truth(col(check.alias)) for check in checks)))
    key = move.key
    level: Statement
    if move.upsert:
        levels = table("stock_levels")
        values = select(Param(key.warehouse_id), Param(key.product_id), Cast(Param(move.on_hand), "bigint"))
        level = (
            insert("stock_levels")
            .from_select(values.where(gate), ("warehouse_id", "product_id", "on_hand"))
            .on_conflict_do_update(
                ("warehouse_id", "product_id"),
                {
                    "on_hand": levels.col("on_hand") + excluded("on_hand"),
                    "update_time": now(),
                    "version": levels.col("version") + 1,
                },
            )
            .returning(*LEVEL_COLUMNS)
        )
    else:
        level = guarded_change(key, on_hand=move.on_hand, reserved=move.reserved).where(gate)
    ledger = (
        insert("stock_transactions")
        .from_select(
            select(*_ledger_values(ledger_values or _ledger_dict(move.row))).from_("level"),
            [name for name, _ in LEDGER_TYPES],
        )
        .returning(*TRANSACTION_MAPPING.columns)
    )
    statement = select(
        *(col(check.alias, "checks") for check in checks),
        *(col(name, "level").as_(f"level_{name}") for name in LEVEL_COLUMNS),
        *(col(name, "ledger").as_(f"ledger_{name}") for name in TRANSACTION_MAPPING.columns),
    )
    if move.claim is not None:
        claim = move.claim
        statement = statement.with_("claim", claim_statement(claim))
    return (
        statement.with_("checks", select(*checks))
        .with_("level", level)
        .with_("ledger", ledger)
        .from_("checks")
        .left_join("level", TRUE)
        .left_join("ledger", TRUE)
    )


class StockMoveRepository(StatementExecutor):
    """The StockMoveRepository protocol of ``repositories.stock_interfaces`` over PostgreSQL."""

    stats_prefix = "stock_moves"

    async def apply(self, move: LevelMove) -> LevelMoveOutcome:
        """Run ``move`` in one statement; what it did (everything, or nothing but the claim)."""
        with self.operation("apply"):
            # Pipeline mode sends the transaction's BEGIN with the statement: one round trip.
            text, params = _compiled(move)
            self.queries += 1
            async with self.conn.pipeline(), self.conn.cursor(row_factory=dict_row) as cursor:
                await cursor.execute(text, params)
                row = await cursor.fetchone()
            if row is None:  # FROM refs always yields one row
                raise RuntimeError("a stock move returned no row")
            claimed = move.claim is None or bool(row["claimed"])
            missing = next((ref for index, ref in enumerate(move.references) if not row[f"ref{index}"]), None)
            if row["ledger_id"] is None:
                return LevelMoveOutcome(claimed=claimed, missing=missing)
            level = level_from_row({name: row[f"level_{name}"] for name in LEVEL_COLUMNS})
            ledger = TRANSACTION_MAPPING.from_row(
                {name: row[f"ledger_{name}"] for name in TRANSACTION_MAPPING.columns}
            )
            return LevelMoveOutcome(claimed=claimed, missing=missing, level=level, transaction=ledger)
