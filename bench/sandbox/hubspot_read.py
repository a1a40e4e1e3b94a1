"""Benchmark: a paged full read of N contacts through the real hubspot-api-client.

Loads N generated customers (owners, companies, contacts only: this measures the read path, not
the loader) into the HubSpot emulator, serves it on loopback, then pages through every contact
with ``client.crm.contacts.basic_api.get_page(limit=100, after=...)`` (the SDK's typed models,
as an adapter would use them). Rate limits are off: this measures capacity, not throttling.
Goal (issue 3): >= 5,000 records/s for 100,000 contacts.

By default the emulator runs in its own process, as ``cem sandbox serve`` does, so client and
server do not share a GIL; ``--in-process`` serves from a thread of the benchmark instead.

Run: ``nice .venv/bin/python -m bench.sandbox.hubspot_read [--contacts N] [--seed S]
[--in-process]``; writes ``bench/results/sandbox-hubspot-read.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
from fastapi import FastAPI
from hubspot import HubSpot

from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.data.model import Company, Owner, Person
from sandbox.hubspot.app import create_app, load
from sandbox.hubspot.config import HubSpotConfig, RateLimits

GOAL_RECORDS_PER_SECOND = 5_000
RESULT = Path(__file__).resolve().parents[1] / "results" / "sandbox-hubspot-read.json"


CONFIG = HubSpotConfig(rate_limits=RateLimits(enabled=False))


def _loaded_app(contacts: int, seed: int) -> tuple[FastAPI, dict[str, object]]:
    app = create_app(CONFIG)
    started = time.perf_counter()
    report = load(
        app, (r for r in generate(seed, contacts) if isinstance(r, Owner | Company | Person))
    )
    return app, {"seconds": time.perf_counter() - started, "counts": report.to_json()["counts"]}


def _serve_in_child(contacts: int, seed: int, pipe: Connection) -> None:
    """Child process: load, serve, report the URL, serve until told to stop."""
    app, loaded = _loaded_app(contacts, seed)
    with SandboxServer(app) as server:
        pipe.send((server.base_url, loaded))
        pipe.recv()  # the parent says when it is done
    pipe.send(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


@contextmanager
def emulator_process(
    contacts: int, seed: int, in_process: bool
) -> Iterator[tuple[str, dict[str, object]]]:
    """A loaded emulator serving on loopback: (base URL, load facts); stopped on exit."""
    if in_process:
        app, loaded = _loaded_app(contacts, seed)
        with SandboxServer(app) as server:
            yield server.base_url, loaded
        return
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve_in_child, args=(contacts, seed, child), daemon=True
    )
    process.start()
    url, loaded = parent.recv()
    try:
        yield url, loaded
    finally:
        parent.send("stop")
        loaded["server_peak_rss_mb"] = round(parent.recv(), 1)
        process.join(timeout=30)


def server_durations(url: str) -> list[float]:
    """Server-side milliseconds of every logged request, from the admin request log."""
    answer = httpx.get(f"{url}/__sandbox/requests", params={"limit": 100_000}, timeout=30)
    return [float(e["duration_ms"]) for e in answer.json()["entries"]]


def run(contacts: int, seed: int, in_process: bool = False) -> dict[str, object]:
    """Load, serve, read everything; the measurements as a dict."""
    token = CONFIG.access_token.get_secret_value()
    with emulator_process(contacts, seed, in_process) as (url, loaded):
        httpx.delete(f"{url}/__sandbox/requests", timeout=10)
        api = HubSpot(access_token=token, host=url).crm.contacts.basic_api
        seen: set[str] = set()
        pages = 0
        after: str | None = None
        started = time.perf_counter()
        while True:
            page = api.get_page(limit=100, after=after, _request_timeout=(5, 30))
            pages += 1
            seen.update(r.id for r in page.results)
            if page.paging is None or page.paging.next is None:
                break
            after = page.paging.next.after
        seconds = time.perf_counter() - started
        durations = server_durations(url)
    if len(seen) != contacts:
        raise SystemExit(f"read {len(seen)} distinct contacts, expected {contacts}")
    rate = len(seen) / seconds
    return {
        "benchmark": "sandbox-hubspot-read",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"python -m bench.sandbox.hubspot_read --contacts {contacts} --seed {seed}"
        + (" --in-process" if in_process else ""),
        "client": "hubspot-api-client 12.0.0, contacts basic_api.get_page(limit=100)",
        "contacts": contacts,
        "pages": pages,
        "read_seconds": round(seconds, 3),
        "records_per_second": round(rate, 1),
        "goal_records_per_second": GOAL_RECORDS_PER_SECOND,
        "goal_met": rate >= GOAL_RECORDS_PER_SECOND,
        "server_ms_per_page": {
            "mean": round(statistics.fmean(durations), 3),
            "p50": round(statistics.median(durations), 3),
            "p95": round(statistics.quantiles(durations, n=20)[18], 3),
        },
        "load": {k: round(v, 3) if isinstance(v, float) else v for k, v in loaded.items()},
        "client_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
            "emulator": "a thread of the benchmark process" if in_process else "its own process",
        },
    }


def main() -> None:
    """Parse arguments, run, print and write the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--in-process", action="store_true", help="serve from a thread")
    args = parser.parse_args()
    result = run(args.contacts, args.seed, args.in_process)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
