"""The change stream's vocabulary: positions, resume tokens, changes and the stream's own errors.

Every ledger row has a *position*, assigned when its transaction commits
(migration 0011), so positions follow commit order. A resume token is an
opaque spelling of a position: resuming with it continues right after that
row. Callers never see a bare position.

>>> token = encode_resume_token(42)
>>> decode_resume_token(token)
42
>>> decode_resume_token("")  # no token: start from now
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from inventory_server.domain.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    PreconditionViolation,
    ResourceExhausted,
    Unavailable,
)
from inventory_server.domain.stock import StockLevel
from inventory_server.domain.transaction import StockTransaction

_TOKEN_PREFIX = "sc1:"  # noqa: S105 - the token format's version, not a secret


def encode_resume_token(position: int) -> str:
    """The opaque token for ``position`` (URL-safe base64, no padding)."""
    raw = f"{_TOKEN_PREFIX}{position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_resume_token(token: str) -> int | None:
    """The position a token stands for, None for an empty token; InvalidArgument for anything else."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    digits = raw.removeprefix(_TOKEN_PREFIX)
    if not raw.startswith(_TOKEN_PREFIX) or not digits.isdigit() or len(digits) > 19:
        raise InvalidArgument.field("resume_token", "not a token this service issued")
    return int(digits)


@dataclass(frozen=True, slots=True)
class StockChange:
    """One ledger row as the stream delivers it, with the levels its transaction left behind."""

    position: int
    transaction: StockTransaction
    levels: tuple[StockLevel, ...]
    # a level of this row went below its product's reorder point (available < reorder_point)
    below_reorder_point: bool = False


def takes_below_reorder_point(
    row: StockTransaction, levels: tuple[StockLevel, ...], reorder_point: int
) -> bool:
    """Whether ``row`` took a level's available stock from at least ``reorder_point`` to below it.

    ``levels`` are the levels after the row's transaction; the level before the
    row is that minus the row's own effect (for a multi-line document: minus
    this row only, the other lines' effects stay in).

    >>> from uuid import UUID
    >>> from datetime import UTC, datetime
    >>> from inventory_server.domain.transaction import TransactionType
    >>> w, p = UUID(int=1), UUID(int=2)
    >>> ship = StockTransaction(id=UUID(int=3), create_time=datetime.now(UTC), type=TransactionType.SHIPMENT,
    ...     product_id=p, quantity=3, performed_by=p, request_id="r", from_warehouse_id=w)
    >>> takes_below_reorder_point(ship, (StockLevel(p, w, on_hand=4),), 5)  # 7 -> 4
    True
    >>> takes_below_reorder_point(ship, (StockLevel(p, w, on_hand=1),), 5)  # 4 -> 1: was below already
    False
    """
    for level in levels:
        before = (level.on_hand - row.on_hand_change(level.warehouse_id)) - (
            level.reserved - row.reserved_change(level.warehouse_id)
        )
        if level.available < reorder_point <= before:
            return True
    return False


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Nothing new that matches: the stream has looked at everything up to ``position``."""

    position: int


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """One catch-up read: the matching changes after a position, in position order.

    ``scanned_through`` is the last position looked at, matching or not (None
    when nothing new was committed); ``purged_through`` the retention horizon
    seen by the same statement.
    """

    changes: list[StockChange]
    scanned_through: int | None
    purged_through: int
    full: bool  # the read stopped at its limit: more may follow at once


@dataclass(frozen=True, slots=True)
class StreamBounds:
    """The positions a stream may start from: anything in ``[purged_through, latest]``."""

    purged_through: int
    latest: int


def position_expired(requested: int, oldest: int) -> FailedPrecondition:
    """FAILED_PRECONDITION: rows after ``requested`` were purged; ``oldest`` is where a resume can start."""
    oldest_token = encode_resume_token(oldest)
    return FailedPrecondition(
        "resume_token is older than the change stream's retention; resume from oldest_resume_token "
        "(rows between the two are no longer available) or re-read the state",
        reason="WATCH_POSITION_EXPIRED",
        metadata={"oldest_resume_token": oldest_token},
        violations=[
            PreconditionViolation(
                type="RETENTION",
                subject="resume_token",
                description=f"the oldest position the stream can offer is resume_token {oldest_token!r}",
            )
        ],
    )


def unknown_position() -> InvalidArgument:
    return InvalidArgument.field("resume_token", "names a position this database never had")


def too_many_watchers(limit: int) -> ResourceExhausted:
    return ResourceExhausted(
        f"this replica already serves {limit} change streams (INVENTORY_WATCH_MAX_STREAMS); "
        "retry later or on another replica",
        reason="WATCH_STREAMS_EXHAUSTED",
        metadata={"limit": str(limit)},
    )


def consumer_too_slow(buffered: int, token: str) -> Aborted:
    """ABORTED: the consumer fell too far behind; it should resume from its last token."""
    return Aborted(
        f"the consumer did not keep up: {buffered} changes were waiting; resume with the last resume_token",
        reason="WATCH_CONSUMER_TOO_SLOW",
        metadata={"resume_token": token},
    )


def shutting_down(token: str) -> Unavailable:
    return Unavailable(
        "the server is shutting down; resume with the last resume_token (on another replica)",
        reason="SERVER_SHUTTING_DOWN",
        metadata={"resume_token": token},
    )
