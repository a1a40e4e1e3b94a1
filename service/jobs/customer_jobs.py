"""The `erase` and `rescore` job kinds: one customer's erasure or rescoring, run as a job.

Glue only, like `sync_job`: the composition root passes how to build a connection's writer and
the stores. Both use cases are idempotent, so a resumed or repeated job simply runs them again.
A CRM that is down or out of quota pauses the job (it resumes by itself, or at once with
`POST /v1/jobs/{id}/resume` or another request for the same customer); what is left to do stays
in the database until then. Once a customer is erased, no job keeps its id: the erasure
replaces it with an opaque hash in every job's params (this job's too).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from service.clock import SYSTEM_CLOCK
from service.jobs.context import JobContext, JobPaused
from service.jobs.registry import SYNC, JobFunction
from service.ports import (
    Clock,
    CrmQuotaExhaustedError,
    CrmRateLimitedError,
    CrmUnavailableError,
    CrmWriter,
)
from service.scoring.churn.thresholds import FlagPolicy
from service.store.erasure import ErasureStore, Footprint
from service.usecases.erase import ErasureStores, StepLog, erase_customer
from service.usecases.rescore import rescore_customer
from service.usecases.sync import SyncStores

ERASE = "erase"
"""The kind `DELETE /v1/customers/{id}` submits."""
RESCORE = "rescore"
"""The kind `POST /v1/customers/{id}/rescore` submits."""

# When a CRM stays unavailable past the retry layer, or does not say when its quota resets.
CRM_RETRY = timedelta(minutes=5)
QUOTA_RETRY = timedelta(hours=1)
# How often an erasure waiting for a running sync of the customer's connections looks again.
BUSY_RETRY = timedelta(seconds=30)


def _paused(error: Exception, clock: Clock) -> JobPaused:
    if isinstance(error, CrmQuotaExhaustedError):
        resume_at = error.resets_at or clock.now() + QUOTA_RETRY
        return JobPaused("the CRM's API quota for us is spent", resume_at=resume_at)
    return JobPaused(
        "a CRM is unavailable; the job resumes later", resume_at=clock.now() + CRM_RETRY
    )


_PAUSING = (CrmQuotaExhaustedError, CrmUnavailableError, CrmRateLimitedError)


def make_erase_job(
    writers: Callable[[str], CrmWriter | None],
    stores: Callable[[], ErasureStores],
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> JobFunction:
    """A job function for kind `erase`; params: `customer_id`."""

    def erase_job(ctx: JobContext, params: dict[str, Any]) -> None:
        customer_id = params.get("customer_id")
        if not customer_id:
            # Scrubbed by a finished erasure (this job resumed after it committed): done.
            return

        def progress(name: str, count: int) -> None:
            ctx.add(name, count)
            ctx.check_cancelled()

        repositories = stores()

        def settle(footprint: Footprint) -> None:
            # A sync (or rescore) that began before the suppression may still push the
            # customer's fields; wait until it is over (later ones skip the customer).
            running = repositories.erasure.running_jobs(
                str(customer_id), footprint.connections, per_connection=SYNC, per_customer=RESCORE
            )
            if running:
                raise JobPaused(
                    f"waiting for {running} running job(s) that may push this customer",
                    resume_at=clock.now() + BUSY_RETRY,
                )

        try:
            report = erase_customer(
                str(customer_id),
                writers,
                repositories,
                job_id=ctx.job_id,
                progress=progress,
                settle=settle,
                steps=StepLog(
                    set(ctx.checkpoint.get("steps", [])),
                    lambda done: ctx.progress(checkpoint={"steps": sorted(done)}),
                ),
            )
        except _PAUSING as error:
            raise _paused(error, clock) from None
        matched: dict[str, int] = {"customers_matched": len(report.matched)}
        for match in report.matched:
            for reason in match["reasons"]:  # type: ignore[attr-defined]
                matched[f"matched_by_{reason}"] = matched.get(f"matched_by_{reason}", 0) + 1
            for connection in match["connections"]:  # type: ignore[attr-defined]
                name = f"matched_on_{connection}"
                matched[name] = matched.get(name, 0) + 1
        ctx.progress(checkpoint={"finished": True}, found=int(report.found), **matched)

    return erase_job


def make_rescore_job(
    writers: Callable[[str], CrmWriter],
    stores: Callable[[], SyncStores],
    footprints: Callable[[], ErasureStore],
    *,
    flag_policy: FlagPolicy | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> JobFunction:
    """A job function for kind `rescore`; params: `customer_id`."""

    def rescore_job(ctx: JobContext, params: dict[str, Any]) -> None:
        customer_id = str(params.get("customer_id") or "")
        footprint = footprints().footprint(customer_id) if customer_id else None
        if footprint is None:
            ctx.progress(checkpoint={"finished": True}, found=0)
            return
        connections = sorted(
            {r.connection for r in footprint.records if not r.deleted and r.crm_object != "?"}
        )

        def progress(name: str, count: int) -> None:
            ctx.add(name, count)
            ctx.check_cancelled()

        try:
            report = rescore_customer(
                customer_id,
                connections,
                writers,
                stores(),
                clock.now(),
                flag_policy=flag_policy,
                progress=progress,
            )
        except _PAUSING as error:
            raise _paused(error, clock) from None
        ctx.progress(
            checkpoint={"finished": True},
            found=1,
            tasks_created=report.tasks_created,
            write_calls=report.write_calls,
            failed=len(report.push_failed),
        )

    return rescore_job
