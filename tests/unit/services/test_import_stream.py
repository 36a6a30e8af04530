"""Reading an import stream: idle timeout, size bounds, bounded rejection echo, the concurrency gate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from inventory_server.domain.errors import DeadlineExceeded, InvalidArgument, ResourceExhausted
from inventory_server.domain.product import NewProduct
from inventory_server.services.import_stream import ImportGate, ImportLimits, ImportRow, read_import


def row(sku: str, description: str = "") -> ImportRow:
    return ImportRow(sku, NewProduct(sku=sku, name="Bolt", description=description))


async def stream(*rows: ImportRow, then_silent: bool = False) -> AsyncIterator[ImportRow]:
    for item in rows:
        yield item
    if then_silent:
        await asyncio.Event().wait()  # a client that stops sending but keeps the stream open


async def test_valid_rows_are_held_with_their_positions_and_invalid_ones_rejected() -> None:
    read = await read_import(stream(row("A-1"), row("bad sku!"), row("A-2")), ImportLimits())
    assert [(index, p.sku) for index, p in read.rows] == [(0, "A-1"), (2, "A-2")]
    assert read.result.rejected_count == 1
    assert read.result.rejected[0].index == 1


async def test_a_silent_stream_ends_with_deadline_exceeded_after_the_idle_timeout() -> None:
    with pytest.raises(DeadlineExceeded) as caught:
        await read_import(stream(row("A-1"), then_silent=True), ImportLimits(idle_timeout=0.05))
    assert caught.value.reason == "IMPORT_IDLE"


async def test_rows_beyond_the_row_or_byte_limit_refuse_the_import() -> None:
    with pytest.raises(InvalidArgument) as caught:
        await read_import(stream(row("A-1"), row("A-2"), row("A-3")), ImportLimits(max_rows=2))
    assert caught.value.reason == "IMPORT_TOO_LARGE"
    with pytest.raises(InvalidArgument, match="bytes of product text"):
        await read_import(stream(row("A-1", "n" * 500), row("A-2", "n" * 500)), ImportLimits(max_bytes=800))


async def test_the_rejection_echo_cuts_skus_and_stops_at_its_row_and_byte_bounds() -> None:
    huge = "X" * 1_000_000
    limits = ImportLimits(max_listed=30, max_listed_bytes=2000, sku_echo_chars=16)
    read = await read_import(stream(*(row(huge) for _ in range(40))), limits)
    assert read.result.rejected_count == 40
    assert all(r.sku == "X" * 16 + "…" for r in read.result.rejected)
    assert sum(len(r.sku) + len(r.reason) for r in read.result.rejected) <= 2000
    assert 0 < len(read.result.rejected) < 30
    assert read.rows == []


def test_the_gate_admits_up_to_its_limit_and_refuses_the_next() -> None:
    gate = ImportGate(2)
    with gate.admit(), gate.admit():
        with pytest.raises(ResourceExhausted) as caught, gate.admit():
            pass
        assert caught.value.reason == "TOO_MANY_IMPORTS"
    with gate.admit():  # released again
        assert gate.active == 1
