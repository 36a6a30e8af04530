"""AIP-155 request_id handling: request fingerprints and the one idempotent-write helper."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from inventory_server.domain.requests import MAX_REQUEST_ID_LENGTH

# A request's fingerprint is the canonical-JSON hash of its meaningful content:
# the same request_id with other content is refused.
from inventory_server.fingerprints import fingerprint
from inventory_server.repositories.stock_interfaces import Claim
from inventory_server.services.unit_of_work import Transactor, UnitOfWork

__all__ = ["MAX_REQUEST_ID_LENGTH", "fingerprint", "write_once"]

R = TypeVar("R")


async def write_once(
    transactor: Transactor[UnitOfWork],
    work: Callable[[UnitOfWork], Awaitable[R]],
    *,
    scope: str,
    request_id: str,
    payload: Any,
    encode: Callable[[R], dict[str, Any]],
    replay: Callable[[UnitOfWork, dict[str, Any]], Awaitable[R]],
    at_once: Callable[[UnitOfWork, Claim | None], Awaitable[R | None]] | None = None,
) -> R:
    """Run ``work`` in a write unit at most once per (``scope``, ``request_id``).

    Inside the one transaction: claim the key with the fingerprint of
    ``payload``; if an earlier request stored a response, ``replay`` it (the
    first result, nothing written); else do ``work`` and store ``encode`` of
    its result with the key, then commit. The same key with another payload
    -> InvalidArgument on request_id (``IdempotencyRepository.claim``). A
    concurrent repeat waits for the first one's claim. Without a
    ``request_id`` this is just a write unit.

    ``at_once``, when given, is tried first: work that claims the key itself,
    together with its own writes, and stores its response, in fewer round
    trips (``StockMoveRepository.apply``, ``ProductRepository.create_once``).
    It returns the result, or None when it did nothing but (perhaps) the
    claim: then the step-by-step path above runs in the same transaction,
    where ``claim`` finds this transaction's own claim (still ours), or the
    earlier request's stored response to replay.
    """
    print_of_request = fingerprint(payload)
    claim = Claim(scope, request_id, print_of_request) if request_id else None

    async def once(uow: UnitOfWork) -> R:
        if at_once is not None:
            done = await at_once(uow, claim)
            if done is not None:
                return done
        if request_id:
            stored = await uow.idempotency.claim(scope, request_id, print_of_request)
            if stored is not None:
                return await replay(uow, stored)
        result = await work(uow)
        if request_id:
            await uow.idempotency.store(scope, request_id, encode(result))
        return result

    return await transactor.write(once)
