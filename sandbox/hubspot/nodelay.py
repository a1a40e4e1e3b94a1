"""Turn off Nagle's algorithm on each served connection.

``sandbox.core.server`` binds its listening socket with protocol 0, and asyncio only sets
``TCP_NODELAY`` on accepted sockets whose protocol is ``IPPROTO_TCP``; without it a response
written in two parts (headers, body) waits for the client's delayed ACK: ~40 ms per request,
measured on this emulator, which capped a paged read at ~1,500 records/s. Remove this once the
core server creates its socket with ``IPPROTO_TCP`` (reported to the lead).
"""

from __future__ import annotations

import socket

from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.core.middleware import TRANSPORT_SCOPE_KEY


class NoDelay:
    """Pure ASGI wrapper: set ``TCP_NODELAY`` on the request's connection (a ~1 µs syscall)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = scope.get("extensions", {}).get(TRANSPORT_SCOPE_KEY)
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await self.app(scope, receive, send)
