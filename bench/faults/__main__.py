"""`python -m bench.faults [--customers N]`: the fault, crash and quota suites' numbers, written to
bench/results/faults.json and faults.md.

For each CRM: a clean run (the reference), a run under the fault mix, a run under the fault mix
with the service SIGKILLed at random points, and a run whose daily quota runs out mid-sync; each
through the real `cem serve` process against its own `cem sandbox serve` process. The runs of
both CRMs go on concurrently (separate processes); results are written as each comparison is
ready, so a long run on a busy machine leaves what it finished. The same runs, with assertions,
are `make test-faults` and `make test-quota` (tests/faults/).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.faults.scenario import (
    RunResult,
    clean_run,
    crash_plan,
    crash_run,
    fault_mix,
    quota_run,
    report,
)
from tests.faults.secrets_scan import scan, sources

RESULTS = Path(__file__).resolve().parents[1] / "results"
OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
MODES = ("faults", "crash", "quota")


def compare(crm: str, mode: str, clean: RunResult, root: Path, size: int) -> dict[str, Any]:
    work = root / f"{crm}-{mode}"
    if mode == "faults":
        other = clean_run(crm, size, work, faults=True)
    elif mode == "crash":
        other = crash_run(crm, size, work, crash_plan(clean, seed=len(crm)))
    else:
        other = quota_run(crm, size, work, clean)
    numbers = report(clean, other)
    numbers["secret_hits"] = len(
        scan(sources(other.written, other.api_bodies, OPENAPI), other.secrets)
    )
    return numbers


def write(sizes: dict[str, int], rows: list[dict[str, Any]], started: float, done: bool) -> None:
    document = {
        "benchmark": "faults",
        "customers": sizes,
        "complete": done,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.monotonic() - started, 1),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "fault_mix": {crm: fault_mix(crm) for crm in ("salesforce", "hubspot")},
        "runs": sorted(rows, key=lambda r: (r["crm"], MODES.index(r["mode"]))),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "faults.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "faults.md").write_text(markdown(document), encoding="utf-8")


def markdown(doc: dict[str, Any]) -> str:
    status = "complete" if doc["complete"] else "PARTIAL: not every run finished"
    sizes = ", ".join(f"{crm} {n:,}" for crm, n in doc["customers"].items())
    args = " ".join(
        f"--{'hubspot-' if crm == 'hubspot' else ''}customers {n}"
        for crm, n in doc["customers"].items()
    )
    lines = [
        f"# Fault, crash and quota suites — customers per CRM: {sizes}",
        "",
        f"Written by `python -m bench.faults {args}` at {doc['finished_at']} ({status}; wall "
        f"time {doc['wall_seconds']:,} s on a shared, busy 2-core machine). Each row compares "
        "one run with a clean run of the same data, both through `cem serve` (PostgreSQL) "
        "against a `cem sandbox serve` process. What each run does: docs/faults.md.",
        "",
        "| CRM | run | job | records lost | duplicate tasks | duplicate field writes | "
        "API calls (clean) | extra calls for recovery | calls faulted or refused | service lives | "
        "secrets found | s (clean s) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["runs"]:
        state = r["job_state"] + (f", {r['days']} days" if "days" in r else "")
        lines.append(
            f"| {r['crm']} | {r['mode']} | {state} | {r['records_lost']} | "
            f"{r['duplicate_tasks']} | {r['duplicate_field_writes']} | "
            f"{r['api_calls']} ({r['api_calls_clean']}) | {r['extra_api_calls']} | "
            f"{r['faulted_api_calls']} | {r['service_lives']} | {r['secret_hits']} | "
            f"{r['seconds']} ({r['seconds_clean']}) |"
        )
    for r in doc["runs"]:
        if "paused" in r:
            p = r["paused"]
            lines += [
                "",
                f"{r['crm']} quota stop, as `GET /v1/jobs/{{id}}` showed it: state "
                f"`{p['state']}`, error `{p['error']}`, run_after `{p['run_after']}`, "
                f"progress `{json.dumps(p['progress'])}`.",
            ]
        if r["mode"] == "crash":
            kills = ", ".join(
                f"{k['at']}@{k['threshold']}" + ("" if k["happened"] else " (missed)")
                for k in r["kills"]
            )
            lines += ["", f"{r['crm']} kills, in order: {kills}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--crm", choices=["salesforce", "hubspot", "both"], default="both")
    parser.add_argument(
        "--hubspot-customers", type=int, help="HubSpot's size, when it differs (default: same)"
    )
    args = parser.parse_args(argv)
    crms = ["salesforce", "hubspot"] if args.crm == "both" else [args.crm]
    sizes = {"salesforce": args.customers, "hubspot": args.hubspot_customers or args.customers}
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    lock = threading.Lock()
    root = Path(tempfile.mkdtemp(prefix="cem-faults-"))
    print(f"work files in {root}", flush=True)
    with ThreadPoolExecutor(max_workers=len(crms) * (1 + len(MODES))) as pool:
        cleans = {
            crm: pool.submit(clean_run, crm, sizes[crm], root / f"{crm}-clean") for crm in crms
        }
        futures = [
            pool.submit(lambda c=crm, m=mode: compare(c, m, cleans[c].result(), root, sizes[c]))
            for crm in crms
            for mode in MODES
        ]
        for future in as_completed(futures):
            try:
                row = future.result()
            except Exception as error:  # one broken run must not hide the others' numbers
                print(f"run failed: {error!r}", file=sys.stderr, flush=True)
                continue
            print(json.dumps({k: v for k, v in row.items() if k != "kills"}), flush=True)
            with lock:
                rows.append(row)
                write(sizes, rows, started, done=False)
    write(sizes, rows, started, done=len(rows) == len(crms) * len(MODES))
    return 0 if len(rows) == len(crms) * len(MODES) else 1


if __name__ == "__main__":
    sys.exit(main())
