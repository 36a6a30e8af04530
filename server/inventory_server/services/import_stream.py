"""Reading an ImportProducts stream before any database work: bounded, timed, capped.

Why the stream is read to its end first: a client decides how fast it sends.
Reading it inside the import's transaction (as the first version did) let ten
clients that send one row and go silent hold every pooled connection in an
open transaction, so every other call on the replica failed (issue 9,
finding 1). Now the rows are read and validated here, with no connection; the
transaction starts once the client has finished, and lasts only as long as the
database works.

What bounds it, all from ``ImportLimits`` (settings):

- ``idle_timeout``: the longest wait for the next message; a silent stream
  ends DEADLINE_EXCEEDED (nothing loaded);
- ``max_rows`` and ``max_bytes``: the rows and the product text held until the
  stream ends (INVALID_ARGUMENT ``IMPORT_TOO_LARGE`` beyond either: split it);
- the echo of rejected rows: at most ``max_listed`` rows and ``max_listed_bytes``
  of sku and reason text, each sku cut to ``sku_echo_chars`` (a rejected row's
  sku used to be kept and echoed in full: 40 rows of 4 MiB skus made a
  168 MB answer, finding 2);
- ``ImportGate``: at most ``max_concurrent`` imports per replica run at once;
  more are RESOURCE_EXHAUSTED at once (with RetryInfo), never queued.

>>> echo_sku("A" * 100, 8)
'AAAAAAAA…'
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from inventory_server.domain.errors import (
    DeadlineExceeded,
    FieldViolation,
    InvalidArgument,
    ResourceExhausted,
)
from inventory_server.domain.product import NewProduct


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """Per-import bounds; the defaults are the settings' defaults."""

    max_rows: int = 1_000_000
    max_bytes: int = 64 * 1024 * 1024
    idle_timeout: float = 10.0
    max_concurrent: int = 2
    max_listed: int = 1000
    max_listed_bytes: int = 256 * 1024
    sku_echo_chars: int = 64
    reason_chars: int = 300


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One row of the stream: the sku exactly as sent (for rejections) and the parsed product."""

    sku_sent: str
    product: NewProduct


@dataclass(frozen=True, slots=True)
class RejectedRow:
    index: int
    sku: str
    reason: str


@dataclass(slots=True)
class ImportResult:
    inserted: int = 0
    updated: int = 0
    rejected_count: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass(slots=True)
class ReadImport:
    """A stream read to its end: the valid rows with their stream positions, and the rejections so far."""

    rows: list[tuple[int, NewProduct]] = field(default_factory=list)
    result: ImportResult = field(default_factory=ImportResult)
    listed_bytes: int = 0


def rejection_reason(product: NewProduct) -> str | None:
    """Why ``product`` cannot be loaded, or None when it can."""
    try:
        product.validate()
    except InvalidArgument as exc:
        return "; ".join(f"{v.field}: {v.description}" for v in exc.violations) or exc.message
    texts = (product.name, product.description, *product.attributes.keys(), *product.attributes.values())
    if any("\x00" in text for text in texts):
        return "text fields must not contain NUL characters"
    return None


def echo_sku(sku: str, limit: int) -> str:
    """``sku`` as a rejection echoes it: at most ``limit`` characters, cut ones marked with "…"."""
    return sku if len(sku) <= limit else sku[:limit] + "…"


# What a held row costs beyond its text: the row's Python objects (measured with tracemalloc at
# about 310 bytes for a row with a 12-character sku and a 21-character name).
ROW_OVERHEAD_BYTES = 256


def text_size(product: NewProduct) -> int:
    """What ``max_bytes`` counts for a held row: its characters of text plus the objects around them."""
    attributes = sum(len(k) + len(v) for k, v in product.attributes.items())
    texts = len(product.sku) + len(product.name) + len(product.description) + attributes
    return texts + ROW_OVERHEAD_BYTES


def note_rejection(read: ReadImport, limits: ImportLimits, row: RejectedRow) -> None:
    """Count a rejected row; list it while the echo stays within its row and byte bounds."""
    read.result.rejected_count += 1
    listed = RejectedRow(
        row.index, echo_sku(row.sku, limits.sku_echo_chars), row.reason[: limits.reason_chars]
    )
    size = len(listed.sku) + len(listed.reason) + 16
    if len(read.result.rejected) < limits.max_listed and read.listed_bytes + size <= limits.max_listed_bytes:
        read.result.rejected.append(listed)
        read.listed_bytes += size


async def read_import(rows: AsyncIterable[ImportRow], limits: ImportLimits) -> ReadImport:
    """Read and validate the whole stream, holding no database connection; see the module docstring."""
    read = ReadImport()
    held = 0
    messages = aiter(rows)
    index = -1
    while True:
        try:
            async with asyncio.timeout(limits.idle_timeout):
                row = await anext(messages)
        except StopAsyncIteration:
            return read
        except TimeoutError:
            raise DeadlineExceeded(
                f"the import stream sent nothing for {limits.idle_timeout:g}s; nothing was loaded",
                reason="IMPORT_IDLE",
            ) from None
        index += 1
        if index >= limits.max_rows:
            raise _too_large(f"at most {limits.max_rows} rows")
        reason = rejection_reason(row.product)
        if reason is not None:
            note_rejection(read, limits, RejectedRow(index, row.sku_sent, reason))
            continue
        held += text_size(row.product)
        if held > limits.max_bytes:
            raise _too_large(f"at most {limits.max_bytes} bytes of product text")
        read.rows.append((index, row.product))


def _too_large(limit: str) -> InvalidArgument:
    return InvalidArgument(
        f"an import takes {limit}; split the stream",
        violations=[FieldViolation("stream", limit)],
        reason="IMPORT_TOO_LARGE",
    )


class ImportGate:
    """Admits at most ``limit`` imports at once; the next one is refused, not queued.

    Refusing (RESOURCE_EXHAUSTED with RetryInfo) rather than waiting keeps a
    flood of imports from piling up streams and their buffered rows.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0

    @contextmanager
    def admit(self) -> Iterator[None]:
        if self.active >= self.limit:
            raise ResourceExhausted(
                f"{self.limit} imports are running on this replica; retry later",
                reason="TOO_MANY_IMPORTS",
                metadata={"limit": str(self.limit)},
            )
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
