"""`python -m bench.sync`: one `cem sync` of the Salesforce sandbox, pull → store → score → push.

The sandbox runs in its own process (`cem sandbox serve`, as a user runs it); the sync runs in
this one, through the same use case, adapters and stores as `cem sync` (SQLite in a temporary
folder, `cem setup` first). Two runs, each on a fresh sandbox and database:

- texts excluded (the sync without a sentiment analyzer, `cem sync --no-sentiment`): records
  pulled per second of the whole sync, beside the sandbox's own paged read rate measured on
  the same sandbox process with `bench.sandbox.salesforce_read`'s read. Goal (issue 17):
  ≥ 5,000 records/s.
- the default sync, texts scored by the default sentiment pipeline: its wall time (the lead
  compares it with ≤ 120 s for 3,000 customers).

Run: `nice .venv/bin/python -m bench.sync [--customers 3000] [--seed 7] [--skip-texts]
[--profile FILE]`; writes `bench/results/sync.json` (`--profile` writes cProfile stats of the
texts-excluded sync to FILE instead, and no result).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simple_salesforce import Salesforce

from adapters.registry import connection_settings
from bench.sandbox.salesforce_read import read_contacts
from service.config import Settings
from service.main import build_connection, sync_stores
from service.sentiment.pipeline import SentimentAnalyzer
from service.store.database import make_engine, upgrade
from service.usecases.sync import SyncReport, sync
from tests.faults.processes import SandboxProcess

GOAL_RECORDS_PER_SECOND = 5_000
RESULT = Path(__file__).resolve().parents[1] / "results" / "sync.json"
NAME = "sf"
# The contacts read this many times for the sandbox's rate: one read of 3,000 contacts is two
# pages and a few tens of milliseconds, too short to time alone.
READ_REPEATS = 10


def _settings(sandbox: SandboxProcess, workdir: Path) -> Settings:
    oauth = sandbox.info["oauth"]
    connection = connection_settings(
        kind="salesforce",
        base_url=sandbox.base_url,
        client_id=oauth["client_id"],
        client_secret=oauth["client_secret"],
        ca_bundle=sandbox.ca_path,
    )
    return Settings(
        database_url=f"sqlite:///{workdir / 'bench.db'}", connections={NAME: connection}
    )


def _sandbox_read_rate(sandbox: SandboxProcess) -> dict[str, Any]:
    """The sandbox's paged read rate, with the read of `bench.sandbox.salesforce_read`."""
    sf = Salesforce(
        instance_url=sandbox.base_url,
        session_id=sandbox.info["session_id"],
        session=sandbox.session(),
    )
    rates = []
    for _ in range(READ_REPEATS):
        seen, seconds = read_contacts(sf)
        rates.append(len(seen) / seconds)
    return {
        "contacts": len(seen),
        "reads": READ_REPEATS,
        "records_per_second_best": round(max(rates), 1),
        "records_per_second_median": round(sorted(rates)[len(rates) // 2], 1),
    }


def _one_sync(
    customers: int, seed: int, *, texts: bool, profile: Path | None = None
) -> dict[str, Any]:
    """A fresh sandbox and database, `cem setup`, then one timed sync; its figures."""
    with tempfile.TemporaryDirectory(prefix="cem-bench-sync-") as tmp:
        work = Path(tmp)
        sandbox = SandboxProcess("salesforce", customers, seed, work)
        try:
            settings = _settings(sandbox, work)
            engine = make_engine(settings.database_url.get_secret_value())
            upgrade(engine)
            connection = build_connection(settings, NAME)
            connection.writer.provision(dry_run=False)
            stores = sync_stores(settings, engine)
            # Built before the clock starts, as `cem sync` builds it before its run.
            analyzer = SentimentAnalyzer(settings.sentiment) if texts else None
            profiler = cProfile.Profile() if profile else None
            started = time.perf_counter()
            cpu = time.process_time()
            if profiler:
                profiler.enable()
            report: SyncReport = sync(
                NAME,
                connection.reader,
                connection.writer,
                stores,
                datetime.now(UTC),
                analyzer=analyzer,
                flag_policy=settings.churn,
            )
            if profiler and profile:
                profiler.disable()
                profiler.dump_stats(profile)
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu
            read = _sandbox_read_rate(sandbox) if not texts else None
        finally:
            sandbox.stop()
    result: dict[str, Any] = {
        "customers": customers,
        "texts": "default sentiment pipeline" if texts else "excluded (analyzer=None)",
        "pulled": report.pulled,
        "refused": len(report.refused),
        "scored": report.scored,
        "fields_pushed": report.pushed,
        "tasks_created": report.tasks_created,
        "write_calls": report.write_calls,
        "failed_writes": len(report.push_failed),
        "wall_seconds": round(seconds, 2),
        "cpu_seconds_this_process": round(cpu_seconds, 2),
        "records_per_second": round(report.pulled / seconds, 1),
    }
    if read is not None:
        result["sandbox_paged_read"] = read
    return result


def main() -> None:
    """Parse arguments, run, print and write the result."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-texts", action="store_true", help="no run with texts scored")
    parser.add_argument("--profile", type=Path, help="cProfile the texts-excluded sync to FILE")
    args = parser.parse_args()
    if args.profile:
        figures = _one_sync(args.customers, args.seed, texts=False, profile=args.profile)
        print(json.dumps(figures, indent=2))
        return
    started = datetime.now(UTC)
    excluded = _one_sync(args.customers, args.seed, texts=False)
    result: dict[str, Any] = {
        "benchmark": "sync",
        "at": started.isoformat(timespec="seconds"),
        "command": f"python -m bench.sync --customers {args.customers} --seed {args.seed}"
        + (" --skip-texts" if args.skip_texts else ""),
        "crm": "Salesforce sandbox (`cem sandbox serve`, its own process), loopback TLS",
        "database": "SQLite file",
        "goal_records_per_second": GOAL_RECORDS_PER_SECOND,
        "texts_excluded": excluded,
        "goal_met": excluded["records_per_second"] >= GOAL_RECORDS_PER_SECOND,
    }
    if not args.skip_texts:
        result["with_texts"] = _one_sync(args.customers, args.seed, texts=True)
    result["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
