"""`python -m bench.workers`: how the task queue scales with `cem worker` processes, written to
bench/results/workers.json and workers.md.

1. Text scoring: the sandbox generator's message texts (distinct, so no cache answers) scored as
   a sync's `texts` tasks (sync_tasks.FanOutScorer, the real path) by 1, 2 and 3 fresh worker
   processes, each running the default e5 model on one intra-op thread; this process only sends
   and waits (it runs no task). Goals: 2 workers >= 1.8 x one; 3 workers on 2 cores no loss vs 2.
2. A full default sync (e5 sentiment, everything pushed) of the 3,000-customer sandbox through
   `cem serve` + RabbitMQ + 1 and 2 workers (tests/scale/scenario.py). Goals: <= 120 s with
   one worker, <= 60 s with two.

Needs PostgreSQL (CEM_TEST_POSTGRES_URL) and RabbitMQ (CEM_TEST_BROKER_URL); the Makefile sets
both for `make bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from sandbox.data.generate import generate
from sandbox.data.model import Interaction
from service.jobs.broker import declare, make_broker
from service.jobs.settings import JobSettings, QueueSettings
from service.jobs.sync_tasks import FanOutScorer
from service.jobs.tasks import RUN_TASK, TaskPool
from service.store.database import make_engine, upgrade
from service.store.job_tasks import JobTaskRepository
from tests.faults import databases
from tests.queue.broker import fresh_queue
from tests.scale.processes import WorkerProcess
from tests.scale.scenario import queue_run

RESULTS = Path(__file__).resolve().parents[1] / "results"
BROKER = os.environ.get("CEM_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
WARM_UP = 64  # texts per worker before the clock starts (model load, first-call costs)


def corpus(texts: int) -> list[tuple[str, str]]:
    """Distinct (text, language) pairs from the sandbox generator, enough for warm-ups too."""
    seen: dict[str, str] = {}
    customers = 500
    while len(seen) < texts + 3 * WARM_UP:
        for record in generate(11, customers):
            if isinstance(record, Interaction) and record.text:
                seen.setdefault(record.text, record.language)
        customers *= 2
    return list(seen.items())


def text_scoring(workers: int, texts: list[tuple[str, str]], root: Path) -> dict[str, Any]:
    workdir = root / f"texts-{workers}"
    workdir.mkdir(parents=True)
    database = databases.create(workdir)
    engine = make_engine(database)
    upgrade(engine)
    pool: list[WorkerProcess] = []
    try:
        with fresh_queue(BROKER) as name:
            env = {
                "CEM_DATABASE_URL": database,
                "CEM_QUEUE__BROKER_URL": BROKER,
                "CEM_QUEUE__QUEUE_NAME": name,
                "CEM_WEBHOOKS__ENABLED": "false",
            }
            pool = [WorkerProcess(env, workdir, n) for n in range(workers)]
            for worker in pool:
                worker.start()
            for worker in pool:
                worker.wait_ready()
            settings = QueueSettings(broker_url=SecretStr(BROKER), queue_name=name)
            broker = make_broker(settings)
            sender = declare(broker, RUN_TASK, lambda _task: None, settings, JobSettings())
            parent = TaskPool(
                JobTaskRepository(engine),
                {},
                worker="bench",
                lease=timedelta(minutes=10),
                dispatch=sender.send,
                helps=False,
            )
            scorer = FanOutScorer(parent, "bench", lambda: None)
            warm, measured = texts[: WARM_UP * workers], texts[3 * WARM_UP :]
            scorer.signals_batch(warm)
            started = time.perf_counter()
            signals = scorer.signals_batch(measured)
            seconds = time.perf_counter() - started
            broker.close()
    finally:
        for worker in pool:
            worker.stop()
        engine.dispose()
        databases.drop(database)
    assert len(signals) == len(measured)
    return {
        "workers": workers,
        "texts": len(measured),
        "seconds": round(seconds, 2),
        "texts_per_second": round(len(measured) / seconds, 1),
        # The machine is shared: how busy it was says how much the ratio can mean.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def full_sync(crm: str, workers: int, customers: int, root: Path) -> dict[str, Any]:
    run = queue_run(
        crm, customers, root / f"sync-{crm}-{workers}", BROKER, workers,
        unset=("CEM_SENTIMENT__BACKENDS",),
    )  # fmt: skip
    return {
        "crm": crm,
        "workers": workers,
        "customers": customers,
        "job_state": run.result.job["state"],
        "progress": run.result.job["progress"],
        "job_seconds": run.job_seconds,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def write(document: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "workers.json").write_text(json.dumps(document, indent=2) + "\n")
    lines = [
        "# Task queue: scaling with `cem worker` processes",
        "",
        f"Written by `python -m bench.workers` at {document['date']} on "
        f"{document['machine']['cpus']} cores shared with other work.",
        "",
        "| text scoring | texts | s | texts/s | vs 1 worker | load (1 min) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    base = next((r for r in document["texts"] if r["workers"] == 1), None)
    for r in document["texts"]:
        ratio = r["texts_per_second"] / base["texts_per_second"] if base else float("nan")
        lines.append(
            f"| {r['workers']} worker(s) | {r['texts']} | {r['seconds']} "
            f"| {r['texts_per_second']} | {ratio:.2f} | {r.get('load_average_1m', '')} |"
        )
    lines += ["", "| full default sync | customers | workers | job | job s | load (1 min) |",
              "|---|---:|---:|---|---:|---:|"]  # fmt: skip
    for r in document["syncs"]:
        lines.append(
            f"| {r['crm']} | {r['customers']} | {r['workers']} | {r['job_state']} "
            f"| {r['job_seconds']} | {r.get('load_average_1m', '')} |"
        )
    (RESULTS / "workers.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workers")
    parser.add_argument("--texts", type=int, default=1500)
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--crm", action="append", choices=("salesforce", "hubspot"))
    parser.add_argument("--skip-sync", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault(
        databases.POSTGRES_ENV, "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    document: dict[str, Any] = {
        "benchmark": "workers",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "texts": [],
        "syncs": [],
    }
    previous = RESULTS / "workers.json"
    if args.skip_sync and previous.exists():
        # Keep the last measured syncs (and their goals) beside the new text figures.
        kept = json.loads(previous.read_text())
        document["syncs"] = kept.get("syncs", [])
        document["goals"] = {
            k: v for k, v in kept.get("goals", {}).items() if k.startswith("sync_seconds_")
        }
    texts = corpus(args.texts)[: args.texts + 3 * WARM_UP]
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        root = Path(tmp)
        for workers in (1, 2, 3):
            document["texts"].append(text_scoring(workers, texts, root))
            write(document)
            print(json.dumps(document["texts"][-1]), flush=True)
        by = {r["workers"]: r["texts_per_second"] for r in document["texts"]}
        document.setdefault("goals", {}).update(
            texts_2_vs_1=round(by[2] / by[1], 3), texts_3_vs_2=round(by[3] / by[2], 3)
        )
        write(document)
        if not args.skip_sync:
            for crm in args.crm or ["salesforce"]:
                for workers in (1, 2):
                    document["syncs"].append(full_sync(crm, workers, args.customers, root))
                    seconds = {r["workers"]: r["job_seconds"] for r in document["syncs"]}
                    document["goals"][f"sync_seconds_{crm}_{workers}"] = seconds[workers]
                    write(document)
                    print(json.dumps(document["syncs"][-1]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
