"""`cem serve --workers N` runs N worker processes behind one port, each with its own app."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found.extend(int(child) for child in task.read_text().split())
    return found


def test_two_workers_serve_one_port(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "CEM_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
           "CEM_WORKERS": "2", "CEM_JOBS__ENABLED": "false"}  # fmt: skip
    cem = Path(sys.executable).with_name("cem")
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [str(cem), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180  # a busy machine starts slowly
        healthy = False
        while time.monotonic() < deadline and not healthy:
            assert server.poll() is None, log.read_text()
            try:
                healthy = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).is_success
            except httpx.HTTPError:
                time.sleep(0.3)
        assert healthy
        # uvicorn's supervisor runs the workers as child processes (plus maybe a resource
        # tracker); both workers answer.
        deadline = time.monotonic() + 60
        while len(_children(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_children(server.pid)) >= 2
        answers = [httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5) for _ in range(10)]
        assert all(a.status_code == 200 for a in answers)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
