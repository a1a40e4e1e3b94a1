"""Maximum throughput with wrk (closed loop, C, cheap on the CPU it shares with the server).

The Lua script cycles through the prepared bodies and prints one JSON line with requests/s,
non-2xx count and latency percentiles (of a saturated server: queueing included).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson

LUA = r"""
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_KEY") or "")
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "errors": %d, '
    .. '"latency_ms": {"p50": %.2f, "p90": %.2f, "p99": %.2f, "max": %.2f}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6), bad,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def saturate(
    url: str, key: str, bodies: list[dict[str, Any]], workdir: Path, *, seconds: int,
    connections: int,
) -> dict[str, Any]:  # fmt: skip
    """Run wrk (one thread: the server needs the other cores) and return its JSON summary."""
    script = workdir / "post.lua"
    script.write_text(LUA)
    lines = workdir / "bodies.jsonl"
    lines.write_bytes(b"\n".join(orjson.dumps(b) for b in bodies) + b"\n")
    env = {"BENCH_BODIES": str(lines), "BENCH_KEY": key, "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    summary: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return summary
