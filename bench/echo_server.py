"""The bench's ceiling for reads: a bare grpc.aio server that answers every unary call with its request.

    python bench/echo_server.py PORT

No interceptors, no (de)serialization, no database: what grpc.aio costs per
call on this machine. ``bench/run.py`` drives it with the same h2load settings
as the service's read scenarios and divides by it.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import grpc
from grpc import aio

METHOD = "/bench.Echo/Echo"


async def _echo(request: bytes, context: Any) -> bytes:
    return request


async def serve(port: int) -> None:
    server = aio.server(options=[("grpc.so_reuseport", 0)])
    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(_echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
