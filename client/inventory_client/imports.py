"""ImportProducts from an iterable of products, hundreds of rows per message.

One message per product costs the server a stream read per row; the stream is
therefore cut into messages of ``batch_size`` products (``products`` field),
and of at most ``max_message_bytes`` each, so one message always fits the
server's receive limit (``INVENTORY_MAX_RECEIVE_MESSAGE_BYTES``, 4 MiB by
default). The first message carries ``all_or_nothing``. A rejected row's
``index`` in the response is its position in ``products``.

>>> from inventory_client.v1 import product_pb2
>>> rows = [product_pb2.Product(sku=f"S-{i}", name="n") for i in range(5)]
>>> [len(m.products) for m in import_requests(rows, batch_size=2)]
[2, 2, 1]
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

from inventory_client.v1 import product_pb2

DEFAULT_BATCH_SIZE = 500
# Well under the server's default 4 MiB receive limit, whatever the products hold.
DEFAULT_MAX_MESSAGE_BYTES = 1 << 20


class _Batcher:
    """Collects products into messages; ``add`` returns the messages it completed (zero, one or two)."""

    def __init__(self, all_or_nothing: bool, batch_size: int, max_message_bytes: int) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.first = True
        self.all_or_nothing = all_or_nothing
        self.batch_size = batch_size
        self.max_message_bytes = max_message_bytes
        self.pending: list[product_pb2.Product] = []
        self.size = 0

    def add(self, product: product_pb2.Product) -> list[product_pb2.ImportProductsRequest]:
        done = []
        size = product.ByteSize() + 8  # the field tag and length around it
        if self.pending and self.size + size > self.max_message_bytes:
            done.append(self.flush())
        self.pending.append(product)
        self.size += size
        if len(self.pending) >= self.batch_size:
            done.append(self.flush())
        return done

    def flush(self) -> product_pb2.ImportProductsRequest:
        message = product_pb2.ImportProductsRequest(
            products=self.pending, all_or_nothing=self.all_or_nothing and self.first
        )
        self.first = False
        self.pending = []
        self.size = 0
        return message


def import_requests(
    products: Iterable[product_pb2.Product],
    *,
    all_or_nothing: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> Iterator[product_pb2.ImportProductsRequest]:
    """The request stream for ``products`` (see the module docstring); nothing for no products."""
    batcher = _Batcher(all_or_nothing, batch_size, max_message_bytes)
    for product in products:
        yield from batcher.add(product)
    if batcher.pending:
        yield batcher.flush()


async def import_requests_async(
    products: AsyncIterable[product_pb2.Product] | Iterable[product_pb2.Product],
    *,
    all_or_nothing: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> AsyncIterator[product_pb2.ImportProductsRequest]:
    """``import_requests`` over an async iterable (or a plain one) of products."""
    batcher = _Batcher(all_or_nothing, batch_size, max_message_bytes)
    if isinstance(products, AsyncIterable):
        async for product in products:
            for message in batcher.add(product):
                yield message
    else:
        for product in products:
            for message in batcher.add(product):
                yield message
    if batcher.pending:
        yield batcher.flush()
