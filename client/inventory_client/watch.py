"""``watch_stock_changes``: StockService.WatchStockChanges that resumes by itself.

    for change in client.watch_stock_changes(filter='type = SHIPMENT'):
        if change.HasField("transaction"):
            handle(change.transaction)          # deduplicate by transaction.id
        checkpoint(change.resume_token)         # heartbeats carry a token too

When the stream breaks with UNAVAILABLE (server restart or shutdown, network,
database outage) or ABORTED ``WATCH_CONSUMER_TOO_SLOW``, it is opened again
with the last resume_token seen, after a backoff; rows around the break may
come twice (at-least-once), never go missing. Any other error, or more than
``max_reconnects`` failed attempts in a row, is raised as the client's typed
exception. The stream has no deadline; stop it by closing the iterator
(``break`` out of the loop).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Any

import grpc

from inventory_client.errors import from_rpc_error
from inventory_client.v1 import stock_pb2

Request = stock_pb2.WatchStockChangesRequest

TOO_SLOW_REASON = "WATCH_CONSUMER_TOO_SLOW"


def resumable(error: grpc.RpcError) -> bool:
    """Whether a broken stream should be opened again from its last token."""
    code = error.code() if hasattr(error, "code") else None
    if code == grpc.StatusCode.UNAVAILABLE:
        return True
    if code == grpc.StatusCode.ABORTED:
        return getattr(from_rpc_error(error), "reason", "") == TOO_SLOW_REASON
    return False


class _Backoff:
    def __init__(self, max_reconnects: int, initial: float, maximum: float) -> None:
        self.max_reconnects = max_reconnects
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def next_delay(self, error: grpc.RpcError) -> float:
        """The pause before the next attempt; raises the typed error when giving up."""
        if not resumable(error) or self.failures >= self.max_reconnects:
            raise from_rpc_error(error) from error
        self.failures += 1
        return float(min(self.maximum, self.initial * 2 ** (self.failures - 1)))


def watch_stock_changes(
    open_call: Callable[[Request], Any],
    *,
    filter: str = "",
    resume_token: str = "",
    max_reconnects: int = 20,
    initial_backoff: float = 0.1,
    max_backoff: float = 2.0,
) -> Generator[stock_pb2.WatchStockChangesResponse, None, None]:
    """Every response of the stream (changes and heartbeats), reconnecting as the module says.

    ``open_call(request)`` starts one WatchStockChanges call (the client passes its
    stub method with no deadline, so the call carries its token).
    """
    backoff = _Backoff(max_reconnects, initial_backoff, max_backoff)
    token = resume_token
    while True:
        call = open_call(Request(filter=filter, resume_token=token))
        try:
            for response in call:
                backoff.failures = 0
                token = response.resume_token or token
                yield response
            return
        except grpc.RpcError as error:
            delay = backoff.next_delay(error)
        finally:
            call.cancel()
        time.sleep(delay)


async def watch_stock_changes_async(
    open_call: Callable[[Request], Awaitable[Any]],
    *,
    filter: str = "",
    resume_token: str = "",
    max_reconnects: int = 20,
    initial_backoff: float = 0.1,
    max_backoff: float = 2.0,
) -> AsyncGenerator[stock_pb2.WatchStockChangesResponse, None]:
    """The same over grpc.aio: ``async for change in client.watch_stock_changes(...)``."""
    backoff = _Backoff(max_reconnects, initial_backoff, max_backoff)
    token = resume_token
    while True:
        call = await open_call(Request(filter=filter, resume_token=token))
        try:
            async for response in call:
                backoff.failures = 0
                token = response.resume_token or token
                yield response
            return
        except grpc.RpcError as error:
            delay = backoff.next_delay(error)
        finally:
            call.cancel()
        await asyncio.sleep(delay)
