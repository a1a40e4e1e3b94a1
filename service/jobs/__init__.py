"""Jobs: long work (syncs, rescoring) with persisted state, progress, cancel and resume.

- `registry.JobRegistry`: kind name → plain function `(ctx: JobContext, params: dict) -> None`;
  the composition root registers them (`SYNC` is the kind `POST /v1/syncs` submits);
- `queue.JobQueue`: submit / cancel / read (API and CLI; no runner needed);
- `runner.JobRunner`: the in-process runner (threads), started by the app's lifespan;
- `schedule`: periodic syncs from `CEM_CONNECTIONS__<name>__SYNC_INTERVAL_SECONDS` and churn
  training every `CEM_CHURN_TRAINING__EVERY_HOURS`;
- `context.JobContext`: what a job function gets: `progress()`, `checkpoint`, `check_cancelled()`,
  and the signals `JobPaused` / `JobCancelled` it may raise.

State lives in the `jobs` table (`service/store/jobs.py`) whichever runs the functions:
- no broker: `runner.JobRunner` in `cem serve` (threads);
- `CEM_QUEUE__BROKER_URL` set: `cem worker` processes (`worker.JobWorker`, Dramatiq over
  RabbitMQ or Redis, `broker`), the API process only sending messages and scheduling;
- a sync fans out into tasks any worker runs (`tasks.TaskPool`, `sync_tasks`). docs/queue.md.
"""

from service.jobs.context import JobCancelled, JobContext, JobInterrupted, JobPaused, JobStopped
from service.jobs.queue import JobConflictError, JobQueue
from service.jobs.registry import (
    CHURN_TRAIN,
    SYNC,
    JobFunction,
    JobKind,
    JobRegistry,
    UnknownJobKindError,
)
from service.jobs.runner import JobRunner
from service.jobs.schedule import Schedule, sync_schedules, train_schedules
from service.jobs.settings import JobSettings

__all__ = [
    "CHURN_TRAIN",
    "SYNC",
    "JobCancelled",
    "JobConflictError",
    "JobContext",
    "JobFunction",
    "JobInterrupted",
    "JobKind",
    "JobPaused",
    "JobQueue",
    "JobRegistry",
    "JobRunner",
    "JobSettings",
    "JobStopped",
    "Schedule",
    "UnknownJobKindError",
    "sync_schedules",
    "train_schedules",
]
