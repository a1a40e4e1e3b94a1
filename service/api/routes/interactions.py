"""`POST /v1/interactions`: ingest one message from any channel and act on it at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from service.api.crm_problems import CRM_RESPONSES
from service.api.deps import ReceiveMessageDep, WriteKey
from service.api.problems import ProblemError
from service.domain import Channel, Direction
from service.domain.limits import EventTime, not_in_future
from service.usecases.ingest import CustomerErasedError, UnknownCustomerError
from service.usecases.messages import Message, ReceiveMessage, UnknownConnectionError

router = APIRouter(prefix="/v1", tags=["real time"])


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
        examples=["chat-8812734"],
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


def _ingest(receive: ReceiveMessage, body: InteractionIn) -> InteractionOut:
    message = Message(
        id=body.id,
        customer=body.customer,
        channel=body.channel,
        text=body.text,
        language=body.language,
        direction=body.direction,
        occurred_at=body.occurred_at,
    )
    try:
        # A CRM failure (a connection that cannot be built included) is answered by the
        # CrmError handler (service/api/crm_problems.py), not here.
        outcome = receive(body.connection, message)
    except UnknownConnectionError:
        raise ProblemError(404, f"no connection {body.connection!r}", kind="not-found") from None
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
    score = outcome.score
    return InteractionOut(
        customer_id=outcome.customer_id,
        new=outcome.new,
        sentiment=outcome.sentiment,
        experience_score=score.experience.score if score else None,
        churn_risk=score.churn.probability if score and score.churn else None,
        churn_flag=bool(score.churn.flagged) if score and score.churn else None,
        fields_pushed=outcome.report.pushed,
        tasks_created=outcome.report.tasks_created,
        failed_writes=outcome.report.push_failed,
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
async def post_interaction(
    body: InteractionIn, _: WriteKey, receive: ReceiveMessageDep
) -> InteractionOut:
    return await run_in_threadpool(_ingest, receive, body)
