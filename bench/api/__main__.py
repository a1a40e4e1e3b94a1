"""Load test of `POST /v1/score` (issue 7): `cem serve` against a bare FastAPI endpoint.

1. Starts `cem serve` (SQLite in a temporary folder, a read key made with `cem keys create`, the
   per-key rate limit lifted) and the bare endpoint of `bench/api/bare.py`, each in its own
   process with the same uvicorn settings.
2. Warms both up, then measures maximum throughput of each with wrk (closed loop, one thread),
   one after the other, so they never share the CPU.
3. Sends a fixed 200 requests/s (open loop, latency counted from when each request was due) to
   each and records p50/p95/p99.
Both sentiment modes of the score endpoint are measured: `accurate` (the default: the embedding
model where the lexicon is unsure) and `?sentiment=fast` (lexicon only).
Goals: score throughput >= 50 % of the bare endpoint's; p99 <= 50 ms at 200 requests/s.

Run: `python -m bench.api [--seconds 20] [--rate 200]`; writes `bench/results/api-score.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.api import wrk
from bench.api.bodies import make_bodies
from bench.api.openloop import at_rate

RESULT = Path(__file__).resolve().parents[1] / "results" / "api-score.json"
GOAL_THROUGHPUT_SHARE = 0.5
GOAL_P99_MS = 50.0
PATH = "/v1/score"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not become healthy")


@contextmanager
def _serving(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=sink)
        try:
            _wait_healthy(base, process)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


def _warm(url: str, key: str, bodies: list[dict[str, Any]]) -> None:
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        for body in bodies[:300]:
            client.post(url, json=body).raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20, help="per measurement")
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s, open loop")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    args = parser.parse_args()
    if not wrk.available():
        print("wrk not found: install it (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    bodies = make_bodies(2000)
    load_before = os.getloadavg()
    cem = Path(sys.executable).with_name("cem")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cem-bench-api-") as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "CEM_DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
            "CEM_API__RATE_LIMIT_PER_MINUTE": "100000000",
        }
        made = subprocess.run(
            [str(cem), "keys", "create", "--name", "bench", "--scope", "read", "--json"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        key = json.loads(made.stdout)["key"]
        # (process, label, [(measurement name, path)]): the same cem process serves both modes.
        servers = [
            ([str(cem), "serve", "--port"], "cem serve",
             [("score", PATH), ("score_fast_sentiment", PATH + "?sentiment=fast")]),
            ([sys.executable, "-m", "bench.api.bare", "--port"], "bare FastAPI",
             [("bare", PATH)]),
        ]  # fmt: skip
        for command, label, measurements in servers:
            port = _free_port()
            with _serving([*command, str(port)], env, port, work / f"{port}.log") as base:
                for name, path in measurements:
                    url = base + path
                    print(f"{name}: warming up", flush=True)
                    _warm(url, key, bodies)
                    print(f"{name}: wrk {args.seconds}s, {args.connections} connections")
                    saturated = wrk.saturate(
                        url, key, bodies, work, seconds=args.seconds, connections=args.connections
                    )
                    print(f"{name}: {args.rate:.0f} requests/s for {args.seconds}s", flush=True)
                    fixed = at_rate(
                        url, {"Authorization": f"Bearer {key}"}, bodies, args.rate, args.seconds
                    )
                    results[name] = {"server": label, "path": path,
                                     "max_throughput": saturated,
                                     "fixed_rate": fixed.to_json()}  # fmt: skip
    bare_rps = results["bare"]["max_throughput"]["rps"]
    goals = {}
    for name in ("score", "score_fast_sentiment"):
        share = results[name]["max_throughput"]["rps"] / bare_rps
        p99 = results[name]["fixed_rate"]["latency_ms"]["p99"]
        goals[name] = {
            "throughput_share_of_bare": {"goal": GOAL_THROUGHPUT_SHARE, "value": round(share, 3),
                                         "met": share >= GOAL_THROUGHPUT_SHARE},
            "p99_ms_at_rate": {"goal": GOAL_P99_MS, "value": p99, "met": p99 <= GOAL_P99_MS},
        }  # fmt: skip
    report = {
        "benchmark": "POST /v1/score under load (bench/api)",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "settings": {"seconds": args.seconds, "rate": args.rate,
                     "wrk_connections": args.connections, "distinct_bodies": len(bodies)},
        "results": results,
        "goals": goals,
    }  # fmt: skip
    RESULT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(goals, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
