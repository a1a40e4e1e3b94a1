"""Load test of `POST /v1/score` (issue 7): `cem serve` against a bare FastAPI endpoint.

1. Starts `cem serve` (SQLite in a temporary folder, a read key made with `cem keys create`, the
   per-key rate limit lifted) and the bare endpoint of `bench/api/bare.py`, each in its own
   process(es) with the same uvicorn settings and the same number of workers (`--workers`).
2. Warms both up (every body reaches every worker: the texts' sentiment is cached, as when a
   customer is rescored), then, in interleaved rounds (bare, score, score with fast sentiment;
   repeated), measures each one's maximum throughput with wrk (closed loop, one thread) and its
   latency at a fixed 200 requests/s (open loop: latency counted from when each request was
   due). One measurement at a time, so they never share the CPU; medians over the rounds.
Both sentiment modes of the score endpoint are measured: `accurate` (the default: the embedding
model where the lexicon is unsure) and `?sentiment=fast` (lexicon only); so is the floor
(`bench/api/floor.py`: the service with scoring replaced by a constant answer of the real size),
which tells how much of the goal the service's auth, validation, middleware and HTTP take before
any scoring.
Goals: score throughput >= 50 % of the bare endpoint's; p99 <= 50 ms at 200 requests/s.

Run: `python -m bench.api [--seconds 8] [--rounds 3] [--rate 200] [--workers 1]`;
writes `bench/results/api-score.json` (`api-score-<N>-workers.json` with `--workers N`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.api import wrk
from bench.api.bodies import make_bodies
from bench.api.openloop import at_rate

RESULTS = Path(__file__).resolve().parents[1] / "results"


def result_path(workers: int) -> Path:
    """`api-score.json` for one worker per server, `api-score-<N>-workers.json` otherwise."""
    return RESULTS / ("api-score.json" if workers == 1 else f"api-score-{workers}-workers.json")


GOAL_THROUGHPUT_SHARE = 0.5
GOAL_P99_MS = 50.0
PATH = "/v1/score"
# measurement -> (server, path): the same cem process serves both sentiment modes.
MEASUREMENTS = {
    "bare": ("bare", PATH),
    "score": ("cem", PATH),
    "score_fast_sentiment": ("cem", PATH + "?sentiment=fast"),
    # The service with scoring replaced by a constant (bench/api/floor.py): what it adds before
    # any sentiment or scoring.
    "floor": ("floor", PATH),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180  # start-up on a busy machine
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


def _descendants(pid: int) -> list[int]:
    """`pid` and every process below it (uvicorn's workers are children of its supervisor)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            todo.extend(int(child) for child in task.read_text().split())
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its descendants (Linux /proc)."""
    total = 0
    for each in _descendants(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # exited meanwhile
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def _serving(
    command: list[str], env: dict[str, str], port: int, log: Path
) -> Iterator[tuple[str, int]]:
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=sink)
        try:
            _wait_healthy(base, process)
            yield base, process.pid
        finally:
            process.terminate()
            process.wait(timeout=30)


def _warm(url: str, key: str, bodies: list[dict[str, Any]], workers: int) -> None:
    """Send every body at least once to every worker process (as far as the kernel's spread of
    connections allows: two connections per worker, each sending all bodies), so measurements
    see the steady state of a customer being rescored: the texts of their history have been
    analysed before and the sentiment cache answers. What a never-seen text costs (a call of the
    embedding model where the lexicon is unsure) is `bench.sentiment`'s measurement."""

    def one_connection(offset: int) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            for body in bodies[offset:] + bodies[:offset]:
                client.post(url, json=body).raise_for_status()

    clients = 2 * workers
    with ThreadPoolExecutor(clients) as pool:
        offsets = [n * len(bodies) // clients for n in range(clients)]
        for done in [pool.submit(one_connection, offset) for offset in offsets]:
            done.result()


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8, help="per measurement and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s, open loop")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes of both servers"
    )
    args = parser.parse_args()
    if not wrk.available():
        print("wrk not found: install it (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    bodies = make_bodies(2000)
    load_before = os.getloadavg()
    cem = Path(sys.executable).with_name("cem")
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in MEASUREMENTS}
    with tempfile.TemporaryDirectory(prefix="cem-bench-api-") as tmp, ExitStack() as stack:
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
        # Both servers up at once (an idle one costs nothing); measurements are interleaved
        # round by round, so drifting background load on a shared machine hits all alike.
        bases, pids = {}, {}
        for name, command in (
            ("cem", [str(cem), "serve", "--port"]),
            ("bare", [sys.executable, "-m", "bench.api.bare", "--port"]),
            ("floor", [sys.executable, "-m", "bench.api.floor", "--port"]),
        ):
            port = _free_port()
            argv = [*command, str(port), "--workers", str(args.workers)]
            bases[name], pids[name] = stack.enter_context(
                _serving(argv, env, port, work / f"{name}.log")
            )  # fmt: skip
        urls = {name: bases[server] + path for name, (server, path) in MEASUREMENTS.items()}
        for name, url in urls.items():
            print(f"{name}: warming up", flush=True)
            _warm(url, key, bodies, args.workers)
        for number in range(1, args.rounds + 1):
            for name, url in urls.items():
                print(f"round {number}: {name}: wrk, then {args.rate:.0f}/s", flush=True)
                pid = pids[MEASUREMENTS[name][0]]
                cpu_before = _cpu_seconds(pid)
                saturated = wrk.saturate(
                    url, key, bodies, work, seconds=args.seconds, connections=args.connections
                )
                # Server CPU per request: steadier than throughput on a shared machine.
                cpu_ms = (_cpu_seconds(pid) - cpu_before) * 1000 / max(saturated["requests"], 1)
                saturated["server_cpu_ms_per_request"] = round(cpu_ms, 3)
                fixed = at_rate(
                    url, {"Authorization": f"Bearer {key}"}, bodies, args.rate, args.seconds
                )
                rounds[name].append({"max_throughput": saturated, "fixed_rate": fixed.to_json()})
    goals: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    for name, runs in rounds.items():
        summary[name] = {
            "path": MEASUREMENTS[name][1],
            "max_rps_median": _median([r["max_throughput"]["rps"] for r in runs]),
            "server_cpu_ms_per_request_median": _median(
                [r["max_throughput"]["server_cpu_ms_per_request"] for r in runs]
            ),
            "p99_ms_at_rate_median": _median([r["fixed_rate"]["latency_ms"]["p99"] for r in runs]),
            "p50_ms_at_rate_median": _median([r["fixed_rate"]["latency_ms"]["p50"] for r in runs]),
            "p95_ms_at_rate_median": _median([r["fixed_rate"]["latency_ms"]["p95"] for r in runs]),
            "achieved_rate_median": _median([r["fixed_rate"]["achieved_rate"] for r in runs]),
        }
    for name in ("floor",):
        shares = [
            mine["max_throughput"]["rps"] / bare["max_throughput"]["rps"]
            for mine, bare in zip(rounds[name], rounds["bare"], strict=True)
        ]
        summary[name]["throughput_share_of_bare"] = _median(shares)
    for name in ("score", "score_fast_sentiment"):
        shares = [
            mine["max_throughput"]["rps"] / bare["max_throughput"]["rps"]
            for mine, bare in zip(rounds[name], rounds["bare"], strict=True)
        ]
        share, p99 = _median(shares), summary[name]["p99_ms_at_rate_median"]
        goals[name] = {
            "throughput_share_of_bare": {"goal": GOAL_THROUGHPUT_SHARE, "value": share,
                                         "met": share >= GOAL_THROUGHPUT_SHARE},
            "p99_ms_at_rate": {"goal": GOAL_P99_MS, "value": p99, "met": p99 <= GOAL_P99_MS},
        }  # fmt: skip
    report = {
        "benchmark": "POST /v1/score under load (bench/api)",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "settings": {"seconds": args.seconds, "rounds": args.rounds, "rate": args.rate,
                     "wrk_connections": args.connections, "distinct_bodies": len(bodies),
                     "workers": args.workers},
        "summary": summary,
        "goals": goals,
        "rounds": rounds,
    }  # fmt: skip
    result_path(args.workers).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({"summary": summary, "goals": goals}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
