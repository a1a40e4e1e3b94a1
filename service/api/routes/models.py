"""The churn model each connection learnt from its CRM's outcomes: `GET /v1/models/churn` (the
model card) and `POST /v1/models/churn/train` (queue a `churn-train` job)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import ChurnModelsDep, JobQueueDep, ReadKey, SettingsDep, WriteKey
from service.api.problems import ProblemError
from service.api.routes.jobs import JobOut, submit_connection_job
from service.jobs import CHURN_TRAIN
from service.usecases.model_card import ChurnModelCard

router = APIRouter(prefix="/v1/models", tags=["models"])


class TrainRequest(BaseModel):
    """Which connection to train."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"connection": "acme-sf"}]}
    )

    connection: str = Field(min_length=1, max_length=64, description="A configured connection.")


@router.get(
    "/churn",
    summary="The churn model card of a connection",
    description=(
        "What the connection's last `churn-train` run learnt from the CRM's outcomes: where the "
        "labels came from, the model, its out-of-time ROC-AUC, PR-AUC, ECE and Brier score, the "
        "label-free model's ROC-AUC on the same rows, the features and top drivers, the flag "
        "threshold, and whether scoring uses it (`judged_by`). 404 before the first run."
    ),
    responses={404: {"description": "Unknown connection, or never trained"}},
)
def churn_model(
    _: ReadKey,
    settings: SettingsDep,
    repository: ChurnModelsDep,
    connection: Annotated[str, Query(min_length=1, max_length=64)],
) -> ChurnModelCard:
    if connection not in settings.connections:
        raise ProblemError(404, f"no connection named '{connection}'", kind="not-found")
    stored = repository.latest(connection, with_model=False)
    if stored is None:
        raise ProblemError(
            404,
            f"'{connection}' has no churn model yet: run POST /v1/models/churn/train",
            kind="not-found",
        )
    return ChurnModelCard.of(stored)


@router.post(
    "/churn/train",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Train a connection's churn model now",
    description=(
        "Queues a `churn-train` job (it also runs on a schedule, `CEM_CHURN_TRAINING__EVERY_HOURS`)"
        ": outcomes from the stored CRM records, out-of-time evaluation against the label-free "
        "model, survival curves for subscriptions. Follow it at `GET /v1/jobs/{id}`; 409 while "
        "one is active for the connection."
    ),
    responses={404: {"description": "Unknown connection"}, 409: {}, 501: {}},
)
def train_churn_model(
    body: TrainRequest, _: WriteKey, settings: SettingsDep, queue: JobQueueDep, response: Response
) -> JobOut:
    return submit_connection_job(
        queue, settings, response, CHURN_TRAIN, body.connection, {}, "churn training"
    )
