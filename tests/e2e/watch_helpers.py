"""Helpers for the change stream tests: a watcher thread that collects what a stream delivers."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from inventory_client import InventoryClient, InventoryError
from inventory_client.v1 import stock_pb2


@dataclass
class Collected:
    """What one watcher saw, in arrival order."""

    changes: list[stock_pb2.WatchStockChangesResponse] = field(default_factory=list)
    heartbeats: int = 0
    last_token: str = ""
    error: InventoryError | None = None
    started: threading.Event = field(default_factory=threading.Event)

    def ids(self) -> list[str]:
        """Transaction ids, duplicates removed (first delivery wins)."""
        seen: dict[str, None] = {}
        for change in self.changes:
            seen.setdefault(change.transaction.id, None)
        return list(seen)


def collect(
    client: InventoryClient,
    out: Collected,
    *,
    until: Callable[[Collected], bool],
    timeout: float = 60.0,
    **options: object,
) -> None:
    """Read ``client.watch_stock_changes(**options)`` into ``out`` until ``until(out)`` or ``timeout``."""
    deadline = time.monotonic() + timeout
    try:
        with contextlib.closing(client.watch_stock_changes(**options)) as stream:  # closing cancels the call
            for response in stream:
                out.started.set()
                out.last_token = response.resume_token
                if response.HasField("transaction"):
                    out.changes.append(response)
                else:
                    out.heartbeats += 1
                if until(out) or time.monotonic() > deadline:
                    return
    except InventoryError as error:
        out.error = error
    finally:
        out.started.set()


def ledger_in_commit_order(dsn: str) -> list[tuple[str, str, str]]:
    """Every ledger row as (id, product_id, type), in stream position (commit) order."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT t.id::text, t.product_id::text, t.type FROM stock_changes c"
            " JOIN stock_transactions t ON t.id = c.transaction_id ORDER BY c.position"
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]
