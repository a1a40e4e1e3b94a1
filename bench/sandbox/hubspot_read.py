"""Benchmark: a paged full read of N contacts through the real hubspot-api-client.

Loads N generated customers (owners, companies, contacts only: this measures the read path, not
the loader) into the HubSpot emulator, serves it on loopback, then pages through every contact
with ``client.crm.contacts.basic_api.get_page(limit=100, after=...)`` (the SDK's typed models,
as an adapter would use them). Rate limits are off: this measures capacity, not throttling.
Goal (issue 3): >= 5,000 records/s for 100,000 contacts.

Run: ``nice .venv/bin/python -m bench.sandbox.hubspot_read [--contacts N] [--seed S]``;
writes ``bench/results/sandbox-hubspot-read.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from hubspot import HubSpot

from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.data.model import Company, Owner, Person
from sandbox.hubspot.app import create_app
from sandbox.hubspot.config import HubSpotConfig, RateLimits

GOAL_RECORDS_PER_SECOND = 5_000
RESULT = Path(__file__).resolve().parents[1] / "results" / "sandbox-hubspot-read.json"


def run(contacts: int, seed: int) -> dict[str, object]:
    """Load, serve, read everything; the measurements as a dict."""
    config = HubSpotConfig(rate_limits=RateLimits(enabled=False))
    app = create_app(config)
    emulator = app.state.hubspot
    started = time.perf_counter()
    report = emulator.load(
        r for r in generate(seed, contacts) if isinstance(r, Owner | Company | Person)
    )
    load_seconds = time.perf_counter() - started
    token = config.access_token.get_secret_value()
    with SandboxServer(app) as server:
        api = HubSpot(access_token=token, host=server.base_url).crm.contacts.basic_api
        emulator.sandbox.log.clear()
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
        durations = [e.duration_ms for e in emulator.sandbox.log.entries()]
    if len(seen) != contacts:
        raise SystemExit(f"read {len(seen)} distinct contacts, expected {contacts}")
    rate = len(seen) / seconds
    return {
        "benchmark": "sandbox-hubspot-read",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"python -m bench.sandbox.hubspot_read --contacts {contacts} --seed {seed}",
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
        "load_seconds": round(load_seconds, 3),
        "loaded": report.to_json()["counts"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "note": "client and emulator share one process (and its GIL)",
        },
    }


def main() -> None:
    """Parse arguments, run, print and write the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = run(args.contacts, args.seed)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
