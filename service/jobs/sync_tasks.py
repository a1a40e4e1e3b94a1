"""A sync fanned out (docs/architecture.md §7): pulling stays in the job, page after page per
stream in cursor order; each page's texts are scored in chunks on any worker (`texts` tasks), and
the changed customers are scored and pushed in batches on any worker (`act` tasks). Both are
idempotent on a second run: scoring a text is a pure function, and a batch's pushes go through
the push ledger and its tasks through their idempotency keys.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from more_itertools import chunked

from service.domain import SentimentSignal
from service.jobs.tasks import TaskFunction, TaskPool
from service.ports import CrmQuotaExhaustedError, CrmWriter
from service.scoring.churn.thresholds import FlagPolicy
from service.scoring.customer import ScoringModels
from service.sentiment.language import Hint, Prior
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.signal import TextSignal
from service.usecases.models import labelled_elsewhere, trained_models
from service.usecases.sync import Progress, SyncReport, SyncStores, act_on, ignore_progress

TEXTS = "texts"
ACT = "act"
# Texts per task: big enough that a task's overhead (two row writes, a message) is small next to
# the model's work, small enough that a page's texts spread over several workers.
TEXT_CHUNK = 32
# Customers per task: each batch reads histories, scores and pushes (one CRM call per 100-200).
CUSTOMER_BATCH = 250
MAX_REPORTED_FAILURES = 50


def _hint_json(hint: Hint) -> list[Any]:
    if isinstance(hint, Prior):
        return ["prior", hint.language]
    return ["hint", hint]


def _hint(data: Sequence[Any]) -> Hint:
    return Prior(str(data[1])) if data[0] == "prior" else data[1]


def _signal_json(found: TextSignal) -> dict[str, Any]:
    signal = found.signal.model_dump(mode="json") if found.signal is not None else None
    return {"signal": signal, "language": found.language, "reason": found.reason}


def _signal(data: dict[str, Any]) -> TextSignal:
    signal = SentimentSignal.model_validate(data["signal"]) if data["signal"] else None
    return TextSignal(signal, data["language"], data["reason"])


class FanOutScorer:
    """`signals_batch` over a job's `texts` tasks: what the sync's pull gets as its analyzer."""

    def __init__(self, pool: TaskPool, job_id: str, check: Callable[[], None]) -> None:
        self._pool = pool
        self._job_id = job_id
        self._check = check

    def signals_batch(self, items: Sequence[tuple[str, Hint]]) -> list[TextSignal]:
        payloads = [
            {"items": [[text, _hint_json(hint)] for text, hint in chunk]}
            for chunk in chunked(items, TEXT_CHUNK)
        ]
        results = self._pool.run(self._job_id, TEXTS, payloads, self._check)
        return [_signal(found) for result in results for found in result["signals"]]


@dataclass
class FanOutActions:
    """`act_on` over a job's `act` tasks, merged into the sync's report."""

    pool: TaskPool
    job_id: str
    check: Callable[[], None]

    def __call__(
        self,
        connection: str,
        customer_ids: Iterable[str],
        writer: CrmWriter,
        stores: SyncStores,
        as_of: datetime,
        models: ScoringModels,
        report: SyncReport,
        progress: Progress = ignore_progress,
    ) -> None:
        del writer, stores  # each task builds its own, in the process that runs it
        # The models go with the batches: a fit in another process could differ (a close call
        # between plain and recalibrated BG/NBD flips with the order rows come back in), and one
        # sync must score every customer with the same models. The labelled classifier is not
        # JSON: each batch reads it from the churn-model store, as the parent did.
        fitted = models.model_dump(mode="json", exclude={"labelled", "labelled_elsewhere"})
        labelled = models.labelled is not None or bool(models.labelled_elsewhere)
        payloads = [
            {"connection": connection, "customers": batch, "as_of": as_of.isoformat(),
             "models": fitted, "labelled": labelled}
            for batch in chunked(sorted(customer_ids), CUSTOMER_BATCH)
        ]  # fmt: skip
        spent: list[dict[str, Any]] = []
        for result in self.pool.run(self.job_id, ACT, payloads, self.check):
            report.scored += result["scored"]
            report.pushed += result["pushed"]
            report.tasks_created += result["tasks_created"]
            report.write_calls += result["write_calls"]
            report.push_failed.extend(result["push_failed"])
            progress("scored", result["scored"])
            progress("pushed", result["pushed"])
            if result.get("quota"):
                spent.append(result["quota"])
        if spent:
            # A batch found the CRM's quota spent: the job pauses as it would in-process (the
            # resumed run rescores; the ledger and task keys skip what was already written).
            resets = [datetime.fromisoformat(q["resets_at"]) for q in spent if q["resets_at"]]
            raise CrmQuotaExhaustedError(
                spent[0]["message"],
                resets_at=max(resets) if resets else None,
                connection=connection,
            )


def sync_task_kinds(
    writer: Callable[[str], CrmWriter],
    stores: Callable[[], SyncStores],
    analyzer: Callable[[], SentimentAnalyzer | None],
    flag_policy: FlagPolicy | None = None,
) -> dict[str, TaskFunction]:
    """The task functions a worker (or the parent job itself) runs for a fanned-out sync."""

    def models(payload: dict[str, Any], repositories: SyncStores) -> ScoringModels:
        fitted = ScoringModels.model_validate(payload["models"])
        if not payload["labelled"]:
            return fitted
        policy = flag_policy or FlagPolicy()
        as_of = datetime.fromisoformat(payload["as_of"])
        store, connection = repositories.churn_models, payload["connection"]
        trained = trained_models(store, connection, policy, as_of)
        elsewhere = labelled_elsewhere(store, connection, policy, as_of)
        return fitted.model_copy(
            update={"labelled": trained.get("labelled"), "labelled_elsewhere": elsewhere}
        )

    def texts(payload: dict[str, Any]) -> dict[str, Any]:
        scorer = analyzer()
        if scorer is None:
            raise RuntimeError("no sentiment analyzer in this process")
        items = [(text, _hint(hint)) for text, hint in payload["items"]]
        return {"signals": [_signal_json(found) for found in scorer.signals_batch(items)]}

    local = threading.local()  # one writer per thread and connection: clients are not shared

    def writer_for(connection: str) -> CrmWriter:
        built: dict[str, CrmWriter] = local.__dict__.setdefault("writers", {})
        if connection not in built:
            built[connection] = writer(connection)
        return built[connection]

    def act(payload: dict[str, Any]) -> dict[str, Any]:
        connection = payload["connection"]
        report = SyncReport()
        repositories = stores()
        quota: dict[str, Any] | None = None
        try:
            act_on(
                connection,
                payload["customers"],
                writer_for(connection),
                repositories,
                datetime.fromisoformat(payload["as_of"]),
                models(payload, repositories),
                report,
            )
        except CrmQuotaExhaustedError as error:  # not a failure: the parent pauses the job
            resets_at = error.resets_at.isoformat() if error.resets_at else None
            quota = {"message": str(error), "resets_at": resets_at}
        return {
            "quota": quota,
            "scored": report.scored,
            "pushed": report.pushed,
            "tasks_created": report.tasks_created,
            "write_calls": report.write_calls,
            "push_failed": report.push_failed[:MAX_REPORTED_FAILURES],
        }

    return {TEXTS: texts, ACT: act}
