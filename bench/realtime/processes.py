"""What the real-time benchmarks share: the sandbox and `cem serve` as real processes on
loopback, the sandbox admin API, and the latency statistics."""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

CEM = str(Path(sys.executable).with_name("cem"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[str]]:
    with log.open("w") as out:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=out, text=True)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def serving(env: dict[str, str], workdir: Path, port: int) -> Iterator[str]:
    """`cem serve` on `port`, once its /healthz answers; yields its base URL."""
    with process([CEM, "serve"], env, workdir / "service.log"):
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").is_success:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("cem serve did not start; see its log")
            time.sleep(0.2)
        yield base


def admin(info: dict[str, Any], path: str, body: dict[str, Any] | None = None) -> Any:
    """PUT `body` to (or with None GET) the sandbox admin API; the JSON answer."""
    ca = info.get("ca_cert")
    verify = ssl.create_default_context(cafile=ca) if ca else True
    with httpx.Client(verify=verify, trust_env=False, timeout=30) as client:
        url = f"{info['admin_url']}/{path}"
        answer = client.get(url) if body is None else client.put(url, json=body)
        answer.raise_for_status()
        return answer.json()


def stats(values: list[float]) -> dict[str, Any]:
    done = np.array([v for v in values if v != float("inf")])
    if not len(done):
        return {"events": len(values), "arrived": 0}
    q = {p: float(np.percentile(done, p)) for p in (50, 95, 99)}
    return {
        "events": len(values),
        "arrived": len(done),
        "p50_s": round(q[50], 3),
        "p95_s": round(q[95], 3),
        "p99_s": round(q[99], 3),
        "max_s": round(float(done.max()), 3),
        # Events that never arrived count as infinitely slow for the goal.
        "p95_with_missing_s": (
            _p95_with_missing(values) if len(done) < len(values) else round(q[95], 3)
        ),
    }


def _p95_with_missing(values: list[float]) -> float:
    """The 95th percentile counting events that never arrived as infinitely slow (numpy's
    interpolation between two infinities is NaN, so the rank is taken directly)."""
    ranked = sorted(values)
    at = ranked[min(len(ranked) - 1, int(np.ceil(0.95 * len(ranked))) - 1)]
    return at if at == float("inf") else round(at, 3)
