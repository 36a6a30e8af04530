"""The six stock movements, each one piece of work inside one unit of work.

Every function checks the rows it refers to, changes the level(s) with
guarded updates or under row locks taken in primary-key order, appends its
ledger row and returns the result; the caller (``services.stock``) wraps it
in request_id handling and commits. The functions keep no state between
attempts, so the runner can re-run them after a serialization failure or a
deadlock.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from uuid import UUID

from inventory_server.domain.errors import InvalidArgument
from inventory_server.domain.stock import (
    AdjustStock,
    LevelKey,
    PairMovement,
    ReceiveStock,
    ReleaseReservation,
    Reservation,
    ReserveStock,
    ShipStock,
    StockLevel,
    TransferStock,
    insufficient_reservation,
    insufficient_stock,
    reservation_expired,
)
from inventory_server.domain.transaction import NewTransaction, TransactionType
from inventory_server.repositories.stock_interfaces import Claim, LevelMove, Reference
from inventory_server.services.stock_results import MovementResult
from inventory_server.services.unit_of_work import UnitOfWork


def _performer(user_id: UUID) -> Reference:
    return Reference("user", "performed_by", user_id)


def _pair(product_id: UUID, warehouse_id: UUID, field: str = "warehouse_id") -> list[Reference]:
    return [Reference("product", "product_id", product_id), Reference("warehouse", field, warehouse_id)]


async def _changed(uow: UnitOfWork, key: LevelKey, *, on_hand: int = 0, reserved: int = 0) -> StockLevel:
    """Apply a change the caller has already checked under a lock; a refusal here is a bug."""
    level = await uow.stock_levels.change(key, on_hand=on_hand, reserved=reserved)
    if level is None:
        raise RuntimeError(f"a checked change of {key.subject} was refused")
    return level


async def _take(
    uow: UnitOfWork, key: LevelKey, requested: int, *, on_hand: int = 0, reserved: int = 0
) -> StockLevel:
    """A guarded update that takes ``requested`` available units; INSUFFICIENT_STOCK when it cannot.

    When the guarded UPDATE matches nothing, the level is locked and looked at
    once more, so the error reports a consistent figure (and a change that a
    concurrent receipt made possible in between still goes through).
    """
    level = await uow.stock_levels.change(key, on_hand=on_hand, reserved=reserved)
    if level is not None:
        return level
    locked = (await uow.stock_levels.lock([key])).get(key)
    if locked is None or not locked.allows(on_hand=on_hand, reserved=reserved):
        raise insufficient_stock(key, locked, requested)
    return await _changed(uow, key, on_hand=on_hand, reserved=reserved)


async def _locked_reservation(uow: UnitOfWork, reservation_id: UUID) -> Reservation:
    """The reservation, read again after locking its level: everything that consumes it holds that lock."""
    reservation = await uow.transactions.get_reservation(reservation_id)
    await uow.stock_levels.lock([reservation.key])
    reservation = await uow.transactions.get_reservation(reservation_id)
    if reservation.expired:
        # the expiry sweeper releases it (services.reservation_expiry); nobody else may consume it now
        raise reservation_expired(reservation.id, reservation.expire_time)
    return reservation


async def _ensure_pair_live(uow: UnitOfWork, command: PairMovement) -> None:
    """The product, the warehouse and the performer exist and are not deleted (locked FOR KEY SHARE)."""
    await uow.transactions.ensure_live(
        [*_pair(command.product_id, command.warehouse_id), _performer(command.performed_by)]
    )


def _pair_row(
    command: PairMovement,
    type: TransactionType,
    caller: str,
    *,
    incoming: bool,
    reservation_id: UUID | None = None,
) -> NewTransaction:
    """The ledger row of a one-warehouse movement (into ``to_warehouse_id``, or out of the ``from`` one)."""
    return NewTransaction(
        type=type,
        product_id=command.product_id,
        quantity=command.quantity,
        performed_by=command.performed_by,
        request_id=command.request_id,
        to_warehouse_id=command.warehouse_id if incoming else None,
        from_warehouse_id=None if incoming else command.warehouse_id,
        reservation_id=reservation_id,
        reference=command.reference,
        caller=caller,
    )


async def at_once(
    uow: UnitOfWork,
    command: ReceiveStock | ShipStock | TransferStock | AdjustStock | ReserveStock | ReleaseReservation,
    caller: str,
    claim: Claim | None,
) -> MovementResult | None:
    """The common one-level movements in one statement (``StockMoveRepository.apply``); else None.

    Receipts, shipments without a reservation, reservations and delta
    adjustments are one guarded change (or upsert) of one level plus a ledger
    row, so they go in one statement with the claim and the reference checks.
    None when the statement did not finish (a replay, a missing reference, not
    enough stock) or the movement needs more (a transfer, a reservation being
    consumed, a count): the step-by-step functions below then run in the same
    transaction and give the exact answer or error.
    """
    move: LevelMove | None = None
    if isinstance(command, ReceiveStock):
        move = _level_move(command, claim, command.quantity, 0, TransactionType.RECEIPT, caller)
    elif isinstance(command, ShipStock) and command.reservation_id is None:
        move = _level_move(command, claim, -command.quantity, 0, TransactionType.SHIPMENT, caller)
    elif isinstance(command, ReserveStock):
        move = _level_move(command, claim, 0, command.quantity, TransactionType.RESERVATION, caller)
        move = dataclasses.replace(
            move, row=dataclasses.replace(move.row, expire_time=datetime.now(UTC) + command.lifetime)
        )
    elif isinstance(command, AdjustStock) and command.delta is not None:
        move = LevelMove(
            claim,
            [*_pair(command.product_id, command.warehouse_id), _performer(command.performed_by)],
            LevelKey(command.warehouse_id, command.product_id),
            command.delta,
            0,
            command.delta > 0,
            NewTransaction(
                type=TransactionType.ADJUSTMENT,
                product_id=command.product_id,
                quantity=abs(command.delta),
                performed_by=command.performed_by,
                request_id=command.request_id,
                from_warehouse_id=command.warehouse_id if command.delta < 0 else None,
                to_warehouse_id=command.warehouse_id if command.delta > 0 else None,
                reason=command.reason,
                caller=caller,
            ),
        )
    if move is None:
        return None
    outcome = await uow.stock_moves.apply(move)
    if outcome.transaction is None or outcome.level is None:
        return None
    return MovementResult(outcome.transaction, (outcome.level,))


def _level_move(
    command: PairMovement,
    claim: Claim | None,
    on_hand: int,
    reserved: int,
    type: TransactionType,
    caller: str,
) -> LevelMove:
    incoming = type is TransactionType.RECEIPT
    return LevelMove(
        claim,
        [*_pair(command.product_id, command.warehouse_id), _performer(command.performed_by)],
        command.key,
        on_hand,
        reserved,
        incoming,
        _pair_row(command, type, caller, incoming=incoming),
    )


async def receive(uow: UnitOfWork, command: ReceiveStock, caller: str) -> MovementResult:
    await _ensure_pair_live(uow, command)
    level = await uow.stock_levels.add(command.key, command.quantity)
    row = await uow.transactions.append(_pair_row(command, TransactionType.RECEIPT, caller, incoming=True))
    return MovementResult(row, (level,))


async def ship(uow: UnitOfWork, command: ShipStock, caller: str) -> MovementResult:
    await _ensure_pair_live(uow, command)
    key = command.key
    units = command.quantity
    if command.reservation_id is None:
        level = await _take(uow, key, units, on_hand=-units)
    else:
        reservation = await _locked_reservation(uow, command.reservation_id)
        if reservation.key != key:
            raise InvalidArgument.field(
                "reservation_id",
                f"reserves product {reservation.product_id} in warehouse {reservation.warehouse_id}",
            )
        if units > reservation.remaining:
            raise insufficient_reservation(reservation.id, reservation.remaining, units)
        level = await _changed(uow, key, on_hand=-units, reserved=-units)
    row = await uow.transactions.append(
        _pair_row(
            command, TransactionType.SHIPMENT, caller, incoming=False, reservation_id=command.reservation_id
        )
    )
    return MovementResult(row, (level,))


async def transfer(uow: UnitOfWork, command: TransferStock, caller: str) -> MovementResult:
    await uow.transactions.ensure_live(
        [
            Reference("product", "product_id", command.product_id),
            Reference("warehouse", "from_warehouse_id", command.from_warehouse_id),
            Reference("warehouse", "to_warehouse_id", command.to_warehouse_id),
            _performer(command.performed_by),
        ]
    )
    source, destination = command.keys
    units = command.quantity
    # Both rows must exist to be locked; then both are locked in primary-key order,
    # so transfers in opposite directions cannot deadlock.
    await uow.stock_levels.ensure(destination)
    locked = await uow.stock_levels.lock([source, destination])
    current = locked.get(source)
    if current is None or not current.allows(on_hand=-units):
        raise insufficient_stock(source, current, units)
    source_level = await _changed(uow, source, on_hand=-units)
    destination_level = await _changed(uow, destination, on_hand=units)
    row = await uow.transactions.append(
        NewTransaction(
            type=TransactionType.TRANSFER,
            product_id=command.product_id,
            quantity=units,
            performed_by=command.performed_by,
            request_id=command.request_id,
            from_warehouse_id=command.from_warehouse_id,
            to_warehouse_id=command.to_warehouse_id,
            reference=command.reference,
            caller=caller,
        )
    )
    return MovementResult(row, (source_level, destination_level))


async def adjust(uow: UnitOfWork, command: AdjustStock, caller: str) -> MovementResult:
    """A signed delta applies like a receipt (up) or a shipment (down); a count is compared under a lock.

    A count equal to on_hand changes nothing: no ledger row, the level as it is.
    """
    await uow.transactions.ensure_live(
        [*_pair(command.product_id, command.warehouse_id), _performer(command.performed_by)]
    )
    key = LevelKey(command.warehouse_id, command.product_id)
    if command.delta is not None:
        change = command.delta
        if change > 0:
            level = await uow.stock_levels.add(key, change)
        else:
            level = await _take(uow, key, -change, on_hand=change)
    else:
        await uow.stock_levels.ensure(key)
        current = (await uow.stock_levels.lock([key]))[key]
        change = command.change_from(current.on_hand)
        if change == 0:
            return MovementResult(None, (current,))
        if not current.allows(on_hand=change):
            raise insufficient_stock(key, current, -change)
        level = await _changed(uow, key, on_hand=change)
    row = await uow.transactions.append(
        NewTransaction(
            type=TransactionType.ADJUSTMENT,
            product_id=command.product_id,
            quantity=abs(change),
            performed_by=command.performed_by,
            request_id=command.request_id,
            from_warehouse_id=command.warehouse_id if change < 0 else None,
            to_warehouse_id=command.warehouse_id if change > 0 else None,
            reason=command.reason,
            caller=caller,
        )
    )
    return MovementResult(row, (level,))


async def reserve(uow: UnitOfWork, command: ReserveStock, caller: str) -> MovementResult:
    await _ensure_pair_live(uow, command)
    level = await _take(uow, command.key, command.quantity, reserved=command.quantity)
    row = await uow.transactions.append(
        dataclasses.replace(
            _pair_row(command, TransactionType.RESERVATION, caller, incoming=False),
            expire_time=datetime.now(UTC) + command.lifetime,
        )
    )
    return MovementResult(row, (level,))


async def release(uow: UnitOfWork, command: ReleaseReservation, caller: str) -> MovementResult:
    await uow.transactions.ensure_live([_performer(command.performed_by)])
    reservation = await _locked_reservation(uow, command.reservation_id)
    units = command.units_from(reservation.remaining)
    level = await _changed(uow, reservation.key, reserved=-units)
    row = await uow.transactions.append(
        NewTransaction(
            type=TransactionType.RELEASE,
            product_id=reservation.product_id,
            quantity=units,
            performed_by=command.performed_by,
            request_id=command.request_id,
            from_warehouse_id=reservation.warehouse_id,
            reservation_id=reservation.id,
            caller=caller,
        )
    )
    return MovementResult(row, (level,))
