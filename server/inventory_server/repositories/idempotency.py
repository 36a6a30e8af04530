"""Remembered responses of write requests (AIP-155 request_id) in ``idempotency_keys``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from inventory_server.db.query import Condition, Insert, col, delete, insert, now, select, update
from inventory_server.domain.errors import InvalidArgument
from inventory_server.repositories.executor import StatementExecutor
from inventory_server.repositories.instrumentation import QueryStats
from inventory_server.repositories.interfaces import Claim

TABLE = "idempotency_keys"


class IdempotencyRepository(StatementExecutor):
    """Claims (scope, request_id) keys inside the caller's transaction.

    The claim is an ``INSERT ... ON CONFLICT DO NOTHING``: a concurrent claim
    of the same key waits until the first transaction commits (then this one
    reads the stored response) or rolls back (then this one owns the key).
    Claims only hold inside a transaction: in autocommit mode a claim is
    committed at once and its NULL response would be visible to others.
    """

    stats_prefix = "idempotency"

    def __init__(self, conn: psycopg.AsyncConnection[Any], *, stats: QueryStats | None = None) -> None:
        super().__init__(conn, stats=stats)

    async def claim(self, scope: str, request_id: str, fingerprint: str) -> dict[str, Any] | None:
        """None when this transaction owns the key; the stored response when an earlier request does.

        The same key with another fingerprint -> InvalidArgument on "request_id".
        """
        with self.operation("claim"):
            claim = (
                insert(TABLE)
                .values({"scope": scope, "request_id": request_id, "fingerprint": fingerprint})
                .on_conflict_do_nothing("scope", "request_id")
                .returning("scope")
            )
            if await self.fetch_one(claim) is not None:
                return None
            stored = await self.fetch_one(
                select("fingerprint", "response").from_(TABLE).where(_key(scope, request_id))
            )
            if stored is None:
                # Purged between the two statements: the key is free again.
                await self.fetch_one(claim)
                return None
            if stored["fingerprint"] != fingerprint:
                raise InvalidArgument.field(
                    "request_id", "was already used for a different request; use a new request_id"
                )
            if stored["response"] is None:
                # Other transactions' claims stay invisible until they commit, and they
                # store their response before committing: a NULL response is our own
                # claim, made earlier in this transaction. We still own the key.
                return None
            response: dict[str, Any] = stored["response"]
            self.stats.replays += 1
            return response

    async def store(self, scope: str, request_id: str, response: dict[str, Any]) -> None:
        """Record the response for a key this transaction claimed."""
        with self.operation("store"):
            statement = (
                update(TABLE)
                .set(response=Jsonb(response))
                .where(_key(scope, request_id), col("response").is_null())
            )
            if await self.execute(statement) != 1:
                raise RuntimeError(f"store() for {scope}/{request_id} without a claim in this transaction")

    async def purge_older_than(self, age: timedelta, *, limit: int | None = None) -> int:
        """Forget keys created more than ``age`` ago (at most ``limit`` of them); the number forgotten."""
        with self.operation("purge"):
            old = col("create_time").lt(now() - age)
            if limit is None:
                return await self.execute(delete(TABLE).where(old))
            batch = select(col("ctid")).from_(TABLE).where(old).limit(limit)
            return await self.execute(delete(TABLE).where(col("ctid").in_(batch)))


def claim_statement(claim: Claim, response: dict[str, Any] | None = None) -> Insert:
    """The claim as one statement: ``INSERT ... ON CONFLICT DO NOTHING RETURNING scope`` (no row: taken).

    With ``response`` the key is stored answered at once, for work whose
    response is known before it runs (``ProductRepository.create_once``).
    """
    values: dict[str, Any] = {
        "scope": claim.scope,
        "request_id": claim.request_id,
        "fingerprint": claim.fingerprint,
    }
    if response is not None:
        values["response"] = Jsonb(response)
    return insert(TABLE).values(values).on_conflict_do_nothing("scope", "request_id").returning("scope")


def _key(scope: str, request_id: str) -> Condition:
    return col("scope").eq(scope) & col("request_id").eq(request_id)
