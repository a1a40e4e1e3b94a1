"""The `sync` job kind: the sync use case (pull → score → push of one connection) run as a job.

Glue only: the composition root passes how to build a connection's reader and writer, the
stores and the analyzer, so this module knows no concrete adapter. The use case reports progress
per batch; each report is also the job's cooperative cancellation point. The use case resumes by
itself (cursors are saved after every batch), so a re-queued job simply runs it again, with two
things kept in the checkpoint: the instant it scores at (so the resumed attempt computes the same
values and the push ledger drops what the stopped one already wrote) and the fact that an earlier
attempt started (records it stored but did not push are not changes any more when pulled again,
so the resumed attempt rescores the connection's customers; the ledger and task keys keep that
from costing writes for what was already pushed). A spent CRM quota pauses the job until the
quota resets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from service.clock import SYSTEM_CLOCK
from service.jobs.context import JobContext, JobPaused
from service.jobs.registry import JobFunction
from service.jobs.sync_tasks import FanOutActions, FanOutScorer
from service.jobs.tasks import TaskPool
from service.ports import Clock, CrmQuotaExhaustedError, CrmReader, CrmWriter
from service.sentiment.pipeline import SentimentAnalyzer
from service.usecases.annotate import SignalSource
from service.usecases.sync import ActOn, SyncReport, SyncStores, sync
from service.waits import listening_for_waits

# When the CRM does not say when its quota resets, try again after this long.
QUOTA_RETRY = timedelta(hours=1)


class SyncRun(Protocol):
    """The shape of `service.usecases.sync.sync` (a parameter so tests can pass their own)."""

    def __call__(
        self,
        connection: str,
        reader: CrmReader,
        writer: CrmWriter,
        stores: SyncStores,
        as_of: datetime,
        *,
        analyzer: SignalSource | None = ...,
        progress: Callable[[str, int], None] = ...,
        rescore: Iterable[str] = ...,
        act: ActOn | None = ...,
    ) -> SyncReport: ...


def make_sync_job(
    build: Callable[[str], tuple[CrmReader, CrmWriter]],
    stores: Callable[[], SyncStores],
    analyzer: Callable[[], SentimentAnalyzer | None],
    *,
    run: SyncRun = sync,
    clock: Clock = SYSTEM_CLOCK,
    as_of_clock: Clock | None = None,
    tasks: TaskPool | None = None,
) -> JobFunction:
    """A job function for kind `sync`; params: `full` (forget the cursors first). With `tasks`,
    text scoring and the scoring and pushing of customers fan out as tasks (sync_tasks.py).

    `as_of_clock` (default: `clock`) gives the instant a run scores at; `clock` is real time,
    for when a paused run resumes (a fixed scoring instant in the past would make every pause
    due at once)."""
    scoring = as_of_clock or clock

    def sync_job(ctx: JobContext, params: dict[str, Any]) -> None:
        if ctx.connection is None:
            raise ValueError("a sync job needs a connection")
        reader, writer = build(ctx.connection)
        repositories = stores()
        if params.get("full") and not ctx.checkpoint.get("cursors_reset"):
            repositories.cursors.reset(ctx.connection)
            ctx.progress(checkpoint={**ctx.checkpoint, "cursors_reset": True})
        extra: dict[str, Any] = {}
        saved_as_of = ctx.checkpoint.get("as_of")
        if saved_as_of:
            as_of = datetime.fromisoformat(saved_as_of)
            extra["rescore"] = repositories.records.customer_ids(ctx.connection)
        else:
            as_of = scoring.now()
            ctx.progress(checkpoint={**ctx.checkpoint, "as_of": as_of.isoformat()})

        def progress(name: str, count: int) -> None:
            # The use case reports a batch once it is stored: count it, then stop if asked to
            # (the write that saves the count is also where a cancel request is learnt).
            ctx.add(name, count)
            ctx.check_cancelled()

        def waited(_crm: str, _seconds: float) -> None:
            # A rate-limit wait is shown in the job's progress, not logged as a warning.
            ctx.add("rate_limit_waits", 1)

        scorer: SignalSource | None = analyzer()
        if tasks is not None:
            # A resumed attempt redoes its steps from the saved cursors: earlier tasks are moot.
            tasks.repository.drop_job(ctx.job_id)
            extra["act"] = FanOutActions(tasks, ctx.job_id, ctx.check_cancelled)
            if scorer is not None:
                scorer = FanOutScorer(tasks, ctx.job_id, ctx.check_cancelled)
        try:
            with listening_for_waits(waited):
                report = run(
                    ctx.connection,
                    reader,
                    writer,
                    repositories,
                    as_of,
                    analyzer=scorer,
                    progress=progress,
                    **extra,
                )
        except CrmQuotaExhaustedError as spent:
            resume_at = spent.resets_at or clock.now() + QUOTA_RETRY
            raise JobPaused("the CRM's API quota for us is spent", resume_at=resume_at) from None
        ctx.progress(
            checkpoint={**ctx.checkpoint, "finished": True},
            tasks_created=report.tasks_created,
            failed=len(report.refused) + len(report.push_failed),
        )

    return sync_job
