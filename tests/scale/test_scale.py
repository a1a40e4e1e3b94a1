"""`make test-scale`: the task queue at scale. Per CRM, with CEM_SCALE_CUSTOMERS customers
(10,000 unless set): a single-process run (no broker: the reference), then runs through RabbitMQ
with 1, 2 and 3 `cem worker` processes, and one with 2 workers where the worker holding the sync
is SIGKILLed mid-pull and another mid-push. Every run must leave the CRM exactly as the reference
did (our fields on every record, our tasks by key, none twice). Writes the throughput table to
bench/results/scale.json and scale.md. Runs go one after another, so their times compare."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.faults.scenario import lost
from tests.queue.broker import broker_url
from tests.scale.scenario import Kill, QueueResult, queue_run, single_run

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
CRMS = ("salesforce", "hubspot")
WORKERS = (1, 2, 3)


def customers() -> int:
    return int(os.environ.get("CEM_SCALE_CUSTOMERS", "10000"))


def row(crm: str, reference: QueueResult, run: QueueResult) -> dict[str, Any]:
    state, ref = run.result.state, reference.result.state
    return {
        "crm": crm,
        "mode": run.result.mode,
        "workers": run.workers,
        "customers": run.result.customers,
        "job_state": run.result.job["state"],
        "attempts": run.result.job.get("attempts"),
        "job_seconds": run.job_seconds,
        "customers_per_second": round(run.result.customers / max(run.job_seconds, 1e-9), 1),
        "records_differing_from_single": len(lost(ref, state)),
        "tasks": sum(state.tasks.values()),
        "duplicate_tasks": sum(n - 1 for n in state.tasks.values() if n > 1),
        "missing_tasks": len(ref.tasks.keys() - state.tasks.keys()),
        "extra_tasks": len(state.tasks.keys() - ref.tasks.keys()),
        "duplicate_field_writes": run.result.writes.duplicate_field_writes,
        "kills": [k.to_json() for k in run.kills],
    }


def write(rows: list[dict[str, Any]], size: int) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "scale",
        "customers_per_crm": size,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "rows": rows,
    }
    (RESULTS / "scale.json").write_text(json.dumps(document, indent=2) + "\n")
    lines = [
        f"# Task queue at scale: {size:,} customers per CRM",
        "",
        f"Written by `make test-scale` (CEM_SCALE_CUSTOMERS={size}) at {document['date']} on "
        f"{os.cpu_count()} cores shared with other work. Job seconds: the sync job's own start "
        "to finish; `single` is `cem serve` without a broker (the reference every other run's "
        "CRM state is compared with).",
        "",
        "| CRM | run | job s | customers/s | records differing | tasks | duplicate tasks "
        "| missing tasks | duplicate field writes | attempts |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['crm']} | {r['mode']} | {r['job_seconds']} | {r['customers_per_second']} "
            f"| {r['records_differing_from_single']} | {r['tasks']} | {r['duplicate_tasks']} "
            f"| {r['missing_tasks']} | {r['duplicate_field_writes']} | {r['attempts']} |"
        )
    (RESULTS / "scale.md").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    url = broker_url()
    size = customers()
    root = tmp_path_factory.mktemp("scale")
    found: list[dict[str, Any]] = []
    for crm in CRMS:
        reference = single_run(crm, size, root / f"{crm}-single")
        found.append(row(crm, reference, reference))
        write(found, size)
        for workers in WORKERS:
            run = queue_run(crm, size, root / f"{crm}-{workers}", url, workers)
            found.append(row(crm, reference, run))
            write(found, size)
        pulled = int(reference.result.job["progress"]["pulled"])
        kills = [Kill("pulled", pulled // 2, holder=True), Kill("pushed", 1, holder=False)]
        run = queue_run(crm, size, root / f"{crm}-kill", url, 2, kills)
        found.append(row(crm, reference, run))
        write(found, size)
    return found


def test_every_run_leaves_the_crm_as_the_single_process_run_did(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        assert r["job_state"] == "succeeded", r
        assert r["records_differing_from_single"] == 0, r
        assert r["duplicate_tasks"] == 0, r
        assert r["missing_tasks"] == 0, r
        assert r["extra_tasks"] == 0, r


def test_without_kills_nothing_is_written_twice(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        if not r["kills"]:
            assert r["duplicate_field_writes"] == 0, r


def test_the_killed_workers_work_was_redone(rows: list[dict[str, Any]]) -> None:
    killed = [r for r in rows if r["kills"]]
    assert killed
    for r in killed:
        assert any(k["happened"] for k in r["kills"]), r
        # The holder died mid-pull: its message came back and a second attempt finished the job.
        assert r["attempts"] >= 2, r
