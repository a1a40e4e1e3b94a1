"""The ASGI middleware both emulators share: inject faults, then log the request.

Pure ASGI rather than Starlette's `BaseHTTPMiddleware` because it sits on every request of the
read benchmark and must stay cheap (no extra task, no body buffering).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.core.faults import Fault, FaultKind
from sandbox.core.requestlog import RequestEntry
from sandbox.core.state import ADMIN_PREFIX, SandboxState

# The server (sandbox.core.server) puts the connection's asyncio transport into the scope under
# this key, so a "reset" or "timeout" fault can drop the TCP connection instead of answering.
TRANSPORT_SCOPE_KEY = "cem.sandbox.transport"

FaultRenderer = Callable[[Fault, Scope], Response | None]
"""Turns a fault into the CRM's own error response; None lets the request through."""


class SandboxMiddleware:
    """Applies the injector's verdict to each request and appends it to the request log."""

    def __init__(self, app: ASGIApp, state: SandboxState, render_fault: FaultRenderer) -> None:
        self.app = app
        self.state = state
        self.render_fault = render_fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        at = self.state.clock.now()
        method: str = scope["method"]
        path: str = scope["path"]
        fault = self.state.faults.pick(method, path)
        status = 0
        body_bytes = 0
        kept: bytearray | None = bytearray() if self.state.log.captures(method, path) else None

        async def counting_receive() -> Message:
            nonlocal body_bytes
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                body_bytes += len(chunk)
                if kept is not None:
                    kept.extend(chunk)
            return message

        async def capturing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._dispatch(fault, scope, counting_receive, capturing_send)
        finally:
            self.state.log.append(
                RequestEntry(
                    at=at,
                    method=method,
                    path=path,
                    query=scope.get("query_string", b"").decode("latin-1"),
                    body_bytes=body_bytes,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000.0, 3),
                    fault=fault.kind.value if fault else None,
                    body=kept.decode("utf-8", "replace") if kept is not None else None,
                )
            )

    async def _dispatch(
        self, fault: Fault | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.kind is FaultKind.SLOW:
            await asyncio.sleep(fault.delay_seconds)
            await self.app(scope, receive, send)
            return
        if fault.kind in (FaultKind.TIMEOUT, FaultKind.RESET):
            # A timeout holds the request past the client's read timeout, then drops it.
            await asyncio.sleep(fault.delay_seconds)
            await drop_connection(scope)
            return
        response = self.render_fault(fault, scope)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)


async def drop_connection(scope: Scope) -> None:
    """Close the client's TCP connection with a reset, without any response.

    Without a transport (an in-process test client) there is no socket to drop; raise the same
    error the client would have seen.
    """
    transport = scope.get("extensions", {}).get(TRANSPORT_SCOPE_KEY)
    if transport is None:
        raise ConnectionResetError("sandbox fault: connection reset")
    try:
        sock = transport.get_extra_info("socket")
    except AttributeError:
        # asyncio's TLS transport raises this once the client has already gone (e.g. it timed
        # out first): there is nothing left to reset.
        return
    if sock is not None:
        # SO_LINGER with a zero timeout turns close() into a TCP RST: a real "connection reset".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Let the server notice the disconnect before the app returns, so it does not try to
    # answer on the dead connection.
    await asyncio.sleep(0)
