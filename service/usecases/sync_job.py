"""The `sync` job: one pull → score → push run of a connection, with progress and cancel.

A plain function of (context, params), so a distributed task queue can run it unchanged. The
daily quota running out pauses the job (it resumes after the reset, from the saved cursors);
every other CRM failure fails it with one line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from service.jobs.context import JobContext, JobPaused
from service.ports import CrmQuotaExhaustedError, CrmReader, CrmWriter
from service.sentiment.pipeline import SentimentAnalyzer
from service.usecases.sync import SyncStores, sync

# The connection's adapters and the stores, built by the composition root for each run.
Wiring = Callable[[str], tuple[CrmReader, CrmWriter, SyncStores]]


def make_sync_job(
    wiring: Wiring, analyzer: Callable[[], SentimentAnalyzer | None]
) -> Callable[[JobContext, dict[str, Any]], None]:
    """The job function for kind `sync`."""

    def run(ctx: JobContext, params: dict[str, Any]) -> None:
        if ctx.connection is None:
            raise ValueError("a sync job needs a connection")
        reader, writer, stores = wiring(ctx.connection)

        def progress(counter: str, count: int) -> None:
            ctx.progress(None, **{counter: count})
            ctx.check_cancelled()

        try:
            report = sync(
                ctx.connection,
                reader,
                writer,
                stores,
                datetime.now(UTC),
                analyzer=analyzer() if params.get("sentiment", True) else None,
                progress=progress,
            )
        except CrmQuotaExhaustedError as quota:
            resume = quota.resets_at or datetime.now(UTC) + timedelta(hours=1)
            raise JobPaused(str(quota), resume_at=resume) from None
        ctx.progress(
            refused=len(report.refused),
            failed=len(report.push_failed),
            tasks_created=report.tasks_created,
        )

    return run
