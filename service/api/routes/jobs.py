"""Jobs over HTTP: `POST /v1/syncs`, `GET /v1/jobs`, `GET /v1/jobs/{id}`, `POST …/cancel`,
`POST …/resume` (a paused or cancelled job goes on from its checkpoint)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import JobQueueDep, ReadKey, SettingsDep, WriteKey
from service.api.listing import Cursor, Limit, cursor_problems
from service.api.problems import ProblemError
from service.config import Settings
from service.jobs import CHURN_TRAIN, SYNC, JobConflictError, JobQueue, UnknownJobKindError
from service.jobs.customer_jobs import ERASE, RESCORE
from service.store.keys import KeyInfo, Scope, grants
from service.store.paging import Sort
from service.store.tables import ACTIVE_JOB_STATES, Job, JobState

router = APIRouter(prefix="/v1", tags=["jobs"])

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The job's id")]


class JobOut(BaseModel):
    """A job as clients see it (the resume checkpoint stays internal)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9f1c0d6e2b7a4c1e8d3f5a6b7c8d9e0f",
                    "kind": "sync",
                    "connection": "acme-sf",
                    "state": "running",
                    "params": {"full": False},
                    "progress": {"pulled": 1200, "scored": 800, "pushed": 640, "failed": 2},
                    "error": None,
                    "attempts": 1,
                    "cancel_requested": False,
                    "created_at": "2026-11-22T16:00:00Z",
                    "started_at": "2026-11-22T16:00:01Z",
                    "finished_at": None,
                    "heartbeat_at": "2026-11-22T16:03:12Z",
                    "run_after": None,
                }
            ]
        }
    )

    id: str
    kind: str
    connection: str | None
    state: JobState
    params: dict[str, Any]
    progress: dict[str, Any] = Field(
        description="Cumulative counters (pulled, scored, pushed, failed, …) across attempts."
    )
    error: str | None = Field(description="One line: why it failed, paused or was cancelled.")
    attempts: int
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    run_after: datetime | None = Field(description="A paused job resumes at this time.")

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls.model_validate(job, from_attributes=True)


class JobList(BaseModel):
    items: list[JobOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")


class JobSort(StrEnum):
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    KIND = "kind"
    KIND_DESC = "-kind"
    STATE = "state"
    STATE_DESC = "-state"


class SyncRequest(BaseModel):
    """Which connection to sync, and whether to ignore its cursors (a full resync)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"connection": "acme-sf"}]}
    )

    connection: str = Field(min_length=1, max_length=64, description="A configured connection.")
    full: bool = Field(default=False, description="Re-read everything instead of what changed.")


# Jobs only an admin key may cancel or resume: those an admin key alone may start. A write key
# cancelling an erasure would leave the customer suppressed but not erased.
ADMIN_JOB_KINDS = frozenset({ERASE})
CONTROL_NOTE = "admin for `erase` jobs"


def _may_control(key: KeyInfo, job: Job) -> None:
    if job.kind in ADMIN_JOB_KINDS and not grants(key.scopes, Scope.ADMIN):
        raise ProblemError(
            403, f"this API key lacks the 'admin' scope ({job.kind} jobs)", kind="forbidden"
        )


def _job_or_404(queue: JobQueue, job_id: str) -> Job:
    job = queue.get(job_id)
    if job is None:
        raise ProblemError(404, f"no job with id {job_id}", kind="not-found")
    return job


@router.post(
    "/syncs",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a sync of one connection",
    description=(
        "Queues a `sync` job (pull what changed → score → push) and answers at once; follow it "
        "at `GET /v1/jobs/{id}` (the `Location` header). One sync per connection at a time: "
        "409 when one is already queued, running or paused (its id is in `job_id`). 501 while "
        "this deployment has no sync function registered."
    ),
    responses={404: {"description": "Unknown connection"}, 409: {}, 501: {}},
)
def start_sync(
    body: SyncRequest, _: WriteKey, settings: SettingsDep, queue: JobQueueDep, response: Response
) -> JobOut:
    return submit_connection_job(
        queue, settings, response, SYNC, body.connection, {"full": body.full}, "a sync"
    )


def submit_connection_job(
    queue: JobQueue,
    settings: Settings,
    response: Response,
    kind: str,
    connection: str,
    params: dict[str, Any],
    what: str,
) -> JobOut:
    """Queue one job of `kind` for a configured connection: 404 unknown connection, 409 one
    already active (its id in `job_id`), 501 kind not registered here; sets `Location`."""
    if connection not in settings.connections:
        raise ProblemError(404, f"no connection named '{connection}'", kind="not-found")
    try:
        job = queue.submit(kind, connection=connection, params=params)
    except UnknownJobKindError as error:
        raise ProblemError(501, str(error), kind="job-kind-not-registered") from None
    except JobConflictError as conflict:
        existing = conflict.existing
        raise ProblemError(
            409,
            f"{what} of '{connection}' is already {existing.state if existing else 'active'}",
            kind="job-conflict",
            job_id=existing.id if existing else None,
        ) from None
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return JobOut.of(job)


@router.get("/jobs", summary="List jobs")
def list_jobs(
    _: ReadKey,
    queue: JobQueueDep,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    state: JobState | None = None,
    connection: Annotated[str | None, Query(max_length=64)] = None,
    sort: JobSort = JobSort.CREATED_AT_DESC,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> JobList:
    with cursor_problems():
        page = queue.repository.page(
            kind=kind,
            state=state.value if state else None,
            connection=connection,
            sort=Sort.parse(sort.value),
            cursor=cursor,
            limit=limit,
        )
    return JobList(items=[JobOut.of(j) for j in page.items], next_cursor=page.next_cursor)


@router.get("/jobs/{job_id}", summary="Get a job", responses={404: {}})
def get_job(job_id: JobId, _: ReadKey, queue: JobQueueDep) -> JobOut:
    return JobOut.of(_job_or_404(queue, job_id))


@router.post(
    "/jobs/{job_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Cancel a job",
    description=(
        "A queued or paused job is cancelled at once; a running one stops at its next "
        "checkpoint (`cancel_requested` is true until then). 409 for a finished job. An "
        "`erase` job needs the `admin` scope (403 otherwise)."
    ),
    responses={404: {}, 409: {}},
)
def cancel_job(job_id: JobId, key: WriteKey, queue: JobQueueDep) -> JobOut:
    _may_control(key, _job_or_404(queue, job_id))
    job = queue.cancel(job_id)
    if job is None:
        raise ProblemError(404, f"no job with id {job_id}", kind="not-found")
    if job.state not in ACTIVE_JOB_STATES and job.state != JobState.CANCELLED.value:
        raise ProblemError(409, f"the job already {job.state}", kind="job-finished")
    return JobOut.of(job)


# How to start a finished job's kind again (a resume only continues a paused or cancelled one).
_START_AGAIN = {
    SYNC: "POST /v1/syncs",
    CHURN_TRAIN: "POST /v1/models/churn/train",
    RESCORE: "POST /v1/customers/{customer_id}/rescore",
    ERASE: "DELETE /v1/customers/{customer_id}",
}
_RESUMABLE = (JobState.PAUSED.value, JobState.CANCELLED.value)


@router.post(
    "/jobs/{job_id}/resume",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Resume a paused or cancelled job now",
    description=(
        "A job pauses itself when it cannot go on for now (e.g. the CRM's daily API quota is "
        "spent) and resumes at its `run_after` time, or now with this call. A cancelled job is "
        "queued again by this call. Either goes on from its checkpoint (a sync from its saved "
        "cursors). 409 `job-conflict` when another job of the same kind and connection is "
        "active (its id in `job_id`); 409 `job-not-resumable` for a queued, running, succeeded "
        "or failed job, naming the call that starts a new one in `start_with`. An `erase` job "
        "needs the `admin` scope (403 otherwise)."
    ),
    responses={404: {}, 409: {}},
)
def resume_job(job_id: JobId, key: WriteKey, queue: JobQueueDep) -> JobOut:
    current = _job_or_404(queue, job_id)
    _may_control(key, current)
    if current.state not in _RESUMABLE:
        start = _START_AGAIN.get(current.kind)
        how = f"; start a new one with {start}" if start else ""
        raise ProblemError(
            409,
            f"only a paused or cancelled job can be resumed; this one is {current.state}{how}",
            kind="job-not-resumable",
            start_with=start,
        )
    try:
        job = queue.repository.resume(job_id)
    except JobConflictError as conflict:
        existing = conflict.existing
        raise ProblemError(
            409,
            f"another {current.kind} job of '{current.connection}' is already "
            f"{existing.state if existing else 'active'}; follow that one instead",
            kind="job-conflict",
            job_id=existing.id if existing else None,
        ) from None
    return JobOut.of(job or current)


cancel_job.scope_note = CONTROL_NOTE  # type: ignore[attr-defined]  # read by service.api.access
resume_job.scope_note = CONTROL_NOTE  # type: ignore[attr-defined]
