"""Run an emulator app with uvicorn on a loopback port in a background thread.

Usable from tests as a context manager::

    with SandboxServer(create_app(config), tls=True) as server:
        sf = Salesforce(instance_url=server.base_url, session_id=..., session=server.session())
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import requests
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.core.middleware import TRANSPORT_SCOPE_KEY
from sandbox.core.tls import TlsFiles, generate_loopback_tls

_START_TIMEOUT_SECONDS = 15.0


class _ExposeTransport:
    """Outermost ASGI wrapper: hands the connection's transport to the fault middleware.

    uvicorn passes its per-request cycle's bound `send`; the cycle holds the asyncio transport.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is not None:
                extensions = scope.setdefault("extensions", {})
                extensions[TRANSPORT_SCOPE_KEY] = transport
        await self.app(scope, receive, send)


class SandboxServer:
    """One emulator served on 127.0.0.1; port 0 picks a free port; optional loopback TLS."""

    def __init__(
        self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, tls: bool = False
    ) -> None:
        self._app = app
        self.host = host
        self._requested_port = port
        self.tls = tls
        self._tls_dir: Path | None = None
        self.tls_files: TlsFiles | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def app(self) -> ASGIApp:
        """The served application."""
        return self._app

    @property
    def port(self) -> int:
        """The bound port (after `start()`)."""
        if self._socket is None:
            raise RuntimeError("server not started")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def base_url(self) -> str:
        """`https://127.0.0.1:PORT` or `http://…`, no trailing slash."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def ca_path(self) -> Path | None:
        """The CA certificate clients must trust when TLS is on."""
        return self.tls_files.ca_path if self.tls_files else None

    def session(self) -> requests.Session:
        """A `requests.Session` that trusts this server's CA.

        `trust_env = False` because a `REQUESTS_CA_BUNDLE` in the environment would otherwise
        override `session.verify` (docs/crm-api-facts.md §1.2 D).
        """
        session = requests.Session()
        session.trust_env = False
        if self.ca_path is not None:
            session.verify = str(self.ca_path)
        return session

    def start(self) -> SandboxServer:
        """Bind, start serving in a daemon thread, and wait until requests are accepted."""
        if self._thread is not None:
            raise RuntimeError("server already started")
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose
        # protocol says TCP, and without it a response written as headers + body waits for the
        # client's delayed ACK (~40 ms a request; found by the HubSpot emulator's benchmark).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        sock.set_inheritable(True)
        self._socket = sock
        ssl_options: dict[str, str] = {}
        if self.tls:
            self._tls_dir = Path(tempfile.mkdtemp(prefix="cem-sandbox-tls-"))
            self.tls_files = generate_loopback_tls(self._tls_dir)
            ssl_options = {
                "ssl_certfile": str(self.tls_files.cert_path),
                "ssl_keyfile": str(self.tls_files.key_path),
            }
        config = uvicorn.Config(
            _ExposeTransport(self._app),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            **ssl_options,  # type: ignore[arg-type]
        )
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            name=f"sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._wait_started()
        return self

    def _wait_started(self) -> None:
        assert self._server is not None
        assert self._thread is not None
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("sandbox server failed to start (see log above)")
            if time.monotonic() > deadline:
                raise RuntimeError("sandbox server did not start in time")
            time.sleep(0.01)

    def serve_forever(self) -> None:
        """Block the calling thread until the server stops (Ctrl-C stops it)."""
        if self._thread is None:
            self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            self.stop()

    def stop(self) -> None:
        """Stop serving, join the thread and remove the generated key material."""
        if self._server is not None:
            self._server.should_exit = True
            # Idle keep-alive (and TLS) connections would otherwise hold shutdown for the
            # graceful timeout; a sandbox has nothing to drain.
            self._server.force_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
        self._thread = None
        self._server = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
