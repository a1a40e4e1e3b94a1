"""Several worker processes syncing one HubSpot portal stay inside its rolling window together.

Two real processes, each with its own HubSpotClient (the real SDK), call the emulator, which
enforces a small window and answers 429 past it. Sharing the count through Redis, none of their
calls is refused; counting alone (each process its own window), they overrun it — the check
that this test can fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.core.server import SandboxServer
from sandbox.hubspot.app import create_app as create_hubspot_app
from sandbox.hubspot.config import HubSpotConfig, RateLimits
from sandbox.hubspot.emulator import HubSpotEmulator

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "pat-na1-pacing"
WORKERS = 2
CALLS = 6

# One worker: the shipped client, paced through `storage` (empty: this process alone).
WORKER = """
import sys
from adapters.hubspot.client import HubSpotClient
from adapters.retry import RetryPolicy
from adapters.registry import connection_settings
from adapters.settings import ConnectionSettings

import time
from pathlib import Path

base, token, name, storage, calls, ready, go = sys.argv[1:8]
settings = connection_settings(kind="hubspot", base_url=base, access_token=token)
policy = RetryPolicy(max_attempts=20, max_elapsed_seconds=60, base_delay=0.1)
client = HubSpotClient(name, settings, policy, pacing_url=storage or None)
Path(ready).touch()
while not Path(go).exists():  # start together, however long each took to import
    time.sleep(0.01)
for _ in range(int(calls)):
    client.call(lambda sdk, t: sdk.crm.owners.owners_api.get_page_with_http_info(
        limit=1, _request_timeout=t))
"""


@pytest.fixture
def portal() -> Iterator[SandboxServer]:
    # 8 calls per rolling 5 s (HubSpot: 100 to 250 per 10 s); a refusal says when the window
    # frees (Retry-After), so the run that overruns it does not wait out HubSpot's 10 s default.
    limits = RateLimits(burst=8, window_seconds=5.0, retry_after_header=True)
    emulator = HubSpotEmulator(HubSpotConfig(access_token=TOKEN, rate_limits=limits))
    with SandboxServer(create_hubspot_app(emulator=emulator)) as server:
        yield server
    emulator.close()


def _run_workers(server: SandboxServer, storage: str, tmp: Path) -> list[int]:
    """Run the workers to the end, started together; the statuses the portal answered."""
    session = server.session()
    session.delete(f"{server.base_url}/__sandbox/requests").raise_for_status()
    name = f"hs-{uuid.uuid4().hex[:8]}"  # a fresh count per run
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    go = tmp / "go"
    readies = [tmp / f"ready-{n}" for n in range(WORKERS)]

    def counts(ready: Path) -> list[str]:
        return [str(CALLS), str(ready), str(go)]

    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, server.base_url, TOKEN, name, storage, *counts(ready)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for ready in readies
    ]
    while not all(r.exists() for r in readies):
        assert all(w.poll() is None for w in workers), "a worker died before starting"
        time.sleep(0.05)
    go.touch()
    for worker in workers:
        _out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
    log = session.get(f"{server.base_url}/__sandbox/requests", params={"limit": 10_000}).json()
    return [e["status"] for e in log["entries"] if "/owners" in str(e.get("path", ""))]


def test_workers_sharing_the_count_stay_inside_the_window(
    portal: SandboxServer, redis_url: str, tmp_path: Path
) -> None:
    statuses = _run_workers(portal, redis_url, tmp_path)
    assert statuses.count(200) == WORKERS * CALLS
    assert 429 not in statuses


def test_workers_counting_alone_overrun_the_window(portal: SandboxServer, tmp_path: Path) -> None:
    statuses = _run_workers(portal, "", tmp_path)
    assert statuses.count(200) == WORKERS * CALLS  # the retry layer still gets every call through
    assert statuses.count(429) > 0
