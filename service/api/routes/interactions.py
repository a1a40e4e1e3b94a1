"""`POST /v1/interactions`: ingest one message from any channel and act on it at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from service.api.crm_problems import CRM_RESPONSES
from service.api.deps import WriteKey
from service.api.problems import ProblemError
from service.domain import Channel, Direction, Interaction
from service.domain.limits import EventTime, not_in_future
from service.scoring.customer import ScoringModels
from service.usecases.ingest import CustomerErasedError, UnknownCustomerError, ingest_interaction
from service.usecases.models import scoring_models

router = APIRouter(prefix="/v1", tags=["real time"])
MODEL_TTL_SECONDS = 3600.0  # the purchase model is refitted at most hourly per connection
_LOCK = threading.Lock()


class InteractionIn(BaseModel):
    """One message about a customer known in a CRM connection."""

    # Stripped like the domain models strip: a customer id of only whitespace (e.g. U+0085)
    # passed min_length here and then failed the domain's own check as a 500.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    connection: str = Field(examples=["acme-crm"])
    customer: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="The customer's record id in that CRM (contact or lead)", examples=["101"]
    )
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")] = Field(
        description="Your id of the message; sending the same id again changes nothing",
        examples=["zalo-8812734"],
    )
    channel: Channel = Field(examples=["chat"])
    text: Annotated[str, Field(min_length=1, max_length=20_000)] = Field(
        examples=["Đơn hàng giao trễ cả tuần, không ai trả lời chat."]
    )
    language: Annotated[str | None, Field(max_length=16)] = None
    direction: Direction = Direction.INBOUND
    occurred_at: EventTime | None = Field(
        default=None, description="When it was sent: not before 1970, at most a day ahead"
    )

    @field_validator("occurred_at")
    @classmethod
    def _not_ahead(cls, value: datetime | None) -> datetime | None:
        return None if value is None else not_in_future(value, datetime.now(UTC))


class InteractionOut(BaseModel):
    customer_id: str
    new: bool = Field(description="False when this message id was already ingested")
    sentiment: str | None
    experience_score: float | None
    churn_risk: float | None
    churn_flag: bool | None
    fields_pushed: int
    tasks_created: int
    failed_writes: list[str]


def purchase_models(request: Request, name: str, records: Any) -> ScoringModels:
    """The connection's scoring models, with a purchase model refitted at most hourly."""
    cache: dict[str, tuple[float, ScoringModels]] = request.app.state.purchase_models
    with _LOCK:
        cached = cache.get(name)
        if cached is None or time.monotonic() - cached[0] > MODEL_TTL_SECONDS:
            settings = request.app.state.settings
            model = scoring_models(records, name, datetime.now(UTC), settings.churn)
            cached = cache[name] = (time.monotonic(), model)
    return cached[1]


def _ingest(request: Request, body: InteractionIn) -> InteractionOut:
    settings = request.app.state.settings
    if body.connection not in settings.connections:
        raise ProblemError(404, f"no connection {body.connection!r}", kind="not-found")
    now = datetime.now(UTC)
    # The composition root hands the adapters and stores over; the API never picks them.
    stores = request.app.state.sync_stores()
    interaction = Interaction(
        id=body.id,
        customer_id=body.customer,
        channel=body.channel,
        direction=body.direction,
        occurred_at=body.occurred_at or now,
        text=body.text,
        language=body.language,
    )
    try:
        # A CRM failure (a connection that cannot be built included) is answered by the
        # CrmError handler (service/api/crm_problems.py), not here.
        connection = request.app.state.build_connection(body.connection)
        result = ingest_interaction(
            body.connection,
            connection.reader,
            connection.writer,
            stores,
            interaction,
            now,
            analyzer=request.app.state.analyzer_factory(),
            models=purchase_models(request, body.connection, stores.records),
        )
    except UnknownCustomerError:
        # 404 rather than 422: the body is well-formed; what it names does not exist, as with an
        # unknown connection (the same answer, told apart by `kind`).
        raise ProblemError(
            404,
            f"connection {body.connection!r} has no customer with that id (in our records or "
            "the CRM); nothing was stored",
            kind="customer-not-found",
        ) from None
    except CustomerErasedError:
        raise ProblemError(
            410,
            "this customer was erased on request; the message was not stored",
            kind="customer-erased",
        ) from None
    history = stores.records.history([result.customer_id]).get(result.customer_id)
    mine = [i for i in history.interactions if i.id == body.id] if history else []
    score = result.score
    return InteractionOut(
        customer_id=result.customer_id,
        new=result.new,
        sentiment=mine[0].sentiment.label.value if mine and mine[0].sentiment else None,
        experience_score=score.experience.score if score else None,
        churn_risk=score.churn.probability if score and score.churn else None,
        churn_flag=bool(score.churn.flagged) if score and score.churn else None,
        fields_pushed=result.report.pushed,
        tasks_created=result.report.tasks_created,
        failed_writes=result.report.push_failed,
    )


@router.post(
    "/interactions",
    summary="Ingest a message from any channel; rescore and act on it now",
    responses={
        404: {"description": "No connection of that name, or no such customer in it"},
        410: {"description": "The customer was erased on request; nothing is stored"},
        **CRM_RESPONSES,
    },
    description=(
        "A chat, e-mail, call note, review or social message for a customer of a CRM "
        "connection. Its sentiment and aspects are computed, the customer is rescored, and "
        "changed fields, churn flag and next-best-action tasks are pushed to the CRM at once."
    ),
)
async def post_interaction(body: InteractionIn, request: Request, _: WriteKey) -> InteractionOut:
    return await run_in_threadpool(_ingest, request, body)
