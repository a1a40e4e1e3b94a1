"""Run an ASGI app under uvicorn in one or several worker processes: what `cem serve` does (and
the bare baseline of `bench.api`, so both are served alike)."""

from __future__ import annotations

import socket

import uvicorn
from starlette.types import ASGIApp
from uvicorn.supervisors import Multiprocess

WORKER_HEALTHCHECK_SECONDS = 60


def run(
    app: ASGIApp | None, factory: str, *, host: str, port: int, workers: int, access_log: bool
) -> None:
    """Serve `app` in this process (workers == 1), or `factory` ("module:function", called
    once in each worker process) in `workers` processes sharing one listening socket."""
    options = {"host": host, "port": port, "log_config": None, "server_header": False,
               "access_log": access_log}  # fmt: skip
    if workers == 1 and app is not None:
        uvicorn.run(app, **options)  # type: ignore[arg-type]
        return
    config = uvicorn.Config(
        factory,
        factory=True,
        workers=workers,
        # The supervisor pings each worker and replaces one that has not answered within this
        # time, counted from its start; a worker answers only once its imports are done, which
        # on a busy machine took longer than uvicorn's 5 s, so workers were killed and
        # restarted for ever.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        **options,  # type: ignore[arg-type]
    )
    listener = config.bind_socket()
    # uvicorn opens the shared listener with protocol 0, so asyncio does not switch Nagle's
    # algorithm off on the connections it accepts (it checks for IPPROTO_TCP), and a response's
    # headers and body, written separately, wait ~40 ms for the client's delayed ACK (measured:
    # p50 47 ms instead of 3 ms for the bare endpoint at 200 requests/s). Linux hands the
    # listener's TCP_NODELAY down to every accepted connection.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[listener]).run()
