"""Benchmark: streaming a generated dataset into the Salesforce emulator.

Measures, for N customers with their whole history: the generator alone (records consumed and
dropped), then generator + `SalesforceEmulator.load`; the difference is the loader's own cost.
Also the resident memory the loaded org holds.

Run: `nice .venv/bin/python -m bench.sandbox.salesforce_load [--customers N] [--seed S]`;
writes `bench/results/sandbox-salesforce-load.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

from sandbox.data.generate import generate
from sandbox.salesforce.emulator import SalesforceEmulator

RESULT = Path(__file__).resolve().parents[1] / "results" / "sandbox-salesforce-load.json"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(customers: int, seed: int) -> dict[str, object]:
    """Generate, then generate and load; the measurements as a dict."""
    started = time.perf_counter()
    generated = 0
    for _ in generate(seed, customers):
        generated += 1
    generate_seconds = time.perf_counter() - started
    rss_before = _rss_mb()
    emulator = SalesforceEmulator()
    started = time.perf_counter()
    report = emulator.load(generate(seed, customers))
    total_seconds = time.perf_counter() - started
    loader_seconds = max(total_seconds - generate_seconds, 1e-9)
    return {
        "benchmark": "sandbox-salesforce-load",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"python -m bench.sandbox.salesforce_load --customers {customers} --seed {seed}",
        "customers": customers,
        "records_in": report.records_in,
        "records_generated": generated,
        "created": report.to_json()["created"],
        "generate_seconds": round(generate_seconds, 2),
        "generate_and_load_seconds": round(total_seconds, 2),
        "loader_seconds": round(loader_seconds, 2),
        "loader_records_per_second": round(report.records_in / loader_seconds, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
        "rss_growth_mb_while_loading": round(_rss_mb() - rss_before, 1),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }


def main() -> None:
    """Parse arguments, run, print and write the result."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = run(args.customers, args.seed)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
