"""Follow ``next_page_token`` through a List method, item by item, for grpc and grpc.aio.

Pages are fetched lazily: the next page is asked for only when the items of the
previous one are used up, with the same filter and order_by (the server refuses
a token used with others), and each page has its own deadline.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any


def _call_kwargs(timeout: float | None) -> dict[str, Any]:
    # timeout=None passed on would mean "no deadline": leave it out to keep the client's default.
    return {} if timeout is None else {"timeout": timeout}


def _next_request(request: Any, page: Any) -> Any:
    token = page.next_page_token
    if token == request.page_token:  # a server bug would otherwise loop for ever
        raise RuntimeError(f"the server returned the same page token twice: {token!r}")
    following = type(request)()
    following.CopyFrom(request)
    following.page_token = token
    return following


def items(call: Callable[..., Any], request: Any, field: str, timeout: float | None) -> Iterator[Any]:
    """Every item of ``field`` on every page of ``call(request)``."""
    kwargs = _call_kwargs(timeout)
    while True:
        page = call(request, **kwargs)
        yield from getattr(page, field)
        if not page.next_page_token:
            return
        request = _next_request(request, page)


async def async_items(
    call: Callable[..., Any], request: Any, field: str, timeout: float | None
) -> AsyncIterator[Any]:
    """The same over an awaitable ``call``."""
    kwargs = _call_kwargs(timeout)
    while True:
        page = await call(request, **kwargs)
        for item in getattr(page, field):
            yield item
        if not page.next_page_token:
            return
        request = _next_request(request, page)
