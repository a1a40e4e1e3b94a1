"""Benchmark: a paged full read of N contacts through the real simple-salesforce client.

Loads generated customers (owners, companies and persons only: this measures the read path,
not the loader) until N contacts exist, serves the Salesforce emulator over loopback TLS, then
reads every contact with `query_all_iter` (2,000-row pages via `nextRecordsUrl`, as the
adapter's pull does) selecting the fields a CX pull needs, including a parent field.
Goal (issue 3): >= 5,000 records/s for 100,000 contacts.

Run: `nice .venv/bin/python -m bench.sandbox.salesforce_read [--contacts N] [--seed S]`;
writes `bench/results/sandbox-read.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from simple_salesforce import Salesforce

from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.data.model import Company, Owner, Person, Record
from sandbox.salesforce.app import create_app, emulator_of

GOAL_RECORDS_PER_SECOND = 5_000
RESULT = Path(__file__).resolve().parents[1] / "results" / "sandbox-read.json"
SOQL = (
    "SELECT Id, FirstName, LastName, Email, Phone, Language__c, AccountId, Account.Name, "
    "OwnerId, SystemModstamp FROM Contact ORDER BY SystemModstamp, Id"
)


def _people(seed: int, contacts: int) -> Iterator[Record]:
    """Owners, companies and persons until `contacts` non-lead persons were produced."""
    made = 0
    for record in generate(seed, contacts * 2):
        if isinstance(record, Owner | Company):
            yield record
        elif isinstance(record, Person):
            yield record
            made += not record.is_lead
            if made >= contacts:
                return


def read_contacts(sf: Salesforce) -> tuple[set[str], float]:
    """Page through every contact as a pull does: (distinct ids read, wall seconds).

    The sandbox's paged read rate; `bench.sync` puts it beside the sync's rate."""
    seen: set[str] = set()
    started = time.perf_counter()
    for record in sf.query_all_iter(SOQL):
        seen.add(record["Id"])
    return seen, time.perf_counter() - started


def run(contacts: int, seed: int) -> dict[str, object]:
    """Load, serve, read everything; the measurements as a dict."""
    app = create_app()
    emulator = emulator_of(app)
    started = time.perf_counter()
    report = emulator.load(_people(seed, contacts))
    load_seconds = time.perf_counter() - started
    with SandboxServer(app, tls=True) as server:
        session = emulator.sessions.issue(emulator.integration_user_id)
        sf = Salesforce(
            instance_url=server.base_url, session_id=session.token, session=server.session()
        )
        emulator.state.log.clear()
        seen, seconds = read_contacts(sf)
        durations = [e.duration_ms for e in emulator.state.log.entries()]
    if len(seen) != contacts:
        raise SystemExit(f"read {len(seen)} distinct contacts, expected {contacts}")
    rate = len(seen) / seconds
    return {
        "benchmark": "sandbox-read",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"python -m bench.sandbox.salesforce_read --contacts {contacts} --seed {seed}",
        "client": "simple-salesforce 1.12.10, query_all_iter over loopback TLS",
        "soql": SOQL,
        "contacts": contacts,
        "pages": len(durations),
        "read_seconds": round(seconds, 3),
        "records_per_second": round(rate, 1),
        "goal_records_per_second": GOAL_RECORDS_PER_SECOND,
        "goal_met": rate >= GOAL_RECORDS_PER_SECOND,
        "server_ms_per_page": {
            "mean": round(statistics.fmean(durations), 3),
            "p50": round(statistics.median(durations), 3),
            "max": round(max(durations), 3),
        },
        "load_seconds": round(load_seconds, 3),
        "loaded": report.to_json()["created"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "note": "client and emulator share one process (and its GIL)",
        },
    }


def main() -> None:
    """Parse arguments, run, print and write the result."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = run(args.contacts, args.seed)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
