"""The `churn-train` job kind: learn churn from a connection's own outcomes (scheduled daily by
default, and on demand through `POST /v1/models/churn/train` and `cem models train`).

Glue only, like `sync_job`: the use case reads the stored records (no CRM call), trains, judges
the model against the label-free one and stores the result; the next sync scores with it. It
is idempotent: a re-run trains again from the same records and stores a newer run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service.clock import SYSTEM_CLOCK
from service.jobs.context import JobContext
from service.jobs.registry import CHURN_TRAIN, JobFunction
from service.ports import Clock
from service.scoring.churn.thresholds import FlagPolicy
from service.scoring.churn.training import TrainingPolicy
from service.store.churn_models import ChurnModelRepository
from service.store.records import RecordStore
from service.usecases.churn_training import train_churn

__all__ = ["CHURN_TRAIN", "make_churn_train_job"]


def make_churn_train_job(
    stores: Callable[[], tuple[RecordStore, ChurnModelRepository]],
    *,
    flag_policy: FlagPolicy,
    policy: TrainingPolicy,
    clock: Clock = SYSTEM_CLOCK,
) -> JobFunction:
    """A job function for kind `churn-train` (no params)."""

    def churn_train_job(ctx: JobContext, params: dict[str, Any]) -> None:
        if ctx.connection is None:
            raise ValueError("a churn-train job needs a connection")
        records, models = stores()

        def progress(name: str, count: int) -> None:
            ctx.add(name, count)
            ctx.check_cancelled()

        report = train_churn(
            records,
            models,
            ctx.connection,
            clock.now(),
            flag_policy=flag_policy,
            policy=policy,
            progress=progress,
        )
        ctx.progress(checkpoint={"finished": True}, in_use=int(report.in_use))

    return churn_train_job
