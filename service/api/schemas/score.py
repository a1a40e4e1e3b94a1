"""Bodies of `POST /v1/score`: a customer's history in, the full profile out.

The records are the canonical domain models (`service.domain`), so the API documents exactly what
scoring reads. For convenience a record may leave out `customer_id` (it is the request's
customer) and `id` (numbered per list); a record naming another customer is refused, not ignored.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.domain import (
    Account,
    ActionTask,
    AspectSentiment,
    AwareDatetime,
    Case,
    ChurnFlag,
    Customer,
    ExperienceProfile,
    Interaction,
    Owner,
    SurveyResponse,
    Transaction,
)
from service.scoring.actions.engine import PastTask, Skipped
from service.scoring.churn.bgnbd import BgNbdParams
from service.scoring.churn.survival import SurvivalCurve
from service.scoring.segments import LoyaltyStage, NpsClass

MAX_RECORDS = 2_000
_LISTS = {
    "surveys": "s",
    "interactions": "i",
    "cases": "k",
    "transactions": "t",
    "past_tasks": None,
}

EXAMPLE_REQUEST: dict[str, Any] = {
    "as_of": "2026-11-22T12:00:00Z",
    "customer": {
        "id": "c-1042",
        "display_name": "Nguyễn Thị Lan",
        "language": "vi",
        "owner_id": "u-7",
        "created_at": "2024-03-02T09:00:00Z",
        "lifetime_value": 1840.0,
    },
    "owners": [{"id": "u-7", "name": "Minh Tran", "language": "vi"}],
    "surveys": [
        {"kind": "nps", "value": 4, "occurred_at": "2026-11-20T08:15:00Z", "touchpoint": "delivery"}
    ],
    "interactions": [
        {
            "channel": "chat",
            "occurred_at": "2026-11-21T10:02:00Z",
            "text": "Giao hàng trễ ba ngày, tôi rất thất vọng.",
        },
        {
            "channel": "email",
            "occurred_at": "2026-10-02T16:40:00Z",
            "text": "Thanks, the new plan works great!",
            "language": "en",
        },
    ],
    "cases": [
        {
            "opened_at": "2026-11-21T10:05:00Z",
            "priority": "high",
            "status": "open",
            "subject": "Late delivery",
        }
    ],
    "transactions": [
        {"amount": 320.0, "currency": "EUR", "occurred_at": "2026-06-01T10:00:00Z"},
        {"amount": 410.0, "currency": "EUR", "occurred_at": "2026-09-03T10:00:00Z"},
    ],
}


class ChurnModels(BaseModel):
    """Fitted churn models to use instead of the service's own (e.g. fitted on your data)."""

    model_config = ConfigDict(extra="forbid")

    bgnbd: BgNbdParams | None = Field(default=None, description="For repeat buyers.")
    survival: SurvivalCurve | None = Field(default=None, description="For subscribers.")
    horizon_days: int | None = Field(default=None, gt=0, le=3650)
    threshold: float | None = Field(default=None, gt=0, le=1)
    base_rate: float | None = Field(default=None, ge=0, le=1)


class ScoreRequest(BaseModel):
    """One customer's history; nothing of it is stored."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_REQUEST]})

    as_of: AwareDatetime | None = Field(
        default=None, description="Score as of this moment (default: now); later records count not."
    )
    customer: Customer
    account: Account | None = None
    owners: list[Owner] = Field(
        default=[], max_length=100, description="Staff who may own tasks (their language)."
    )
    surveys: list[SurveyResponse] = Field(default=[], max_length=MAX_RECORDS)
    interactions: list[Interaction] = Field(
        default=[],
        max_length=MAX_RECORDS,
        description="Interactions with `text` and no `sentiment` are analysed by the service.",
    )
    cases: list[Case] = Field(default=[], max_length=MAX_RECORDS)
    transactions: list[Transaction] = Field(default=[], max_length=MAX_RECORDS)
    past_tasks: list[PastTask] = Field(
        default=[], max_length=MAX_RECORDS, description="Tasks made before (no repeats)."
    )
    customer_value: float | None = Field(default=None, ge=0)
    models: ChurnModels | None = Field(
        default=None,
        description=(
            "Churn models for this call. Without them the service's fitted models are used; "
            "with none fitted, `churn` is null and `churn_note` says why."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_ids(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("customer"), dict):
            return data
        customer_id = data["customer"].get("id")
        filled = dict(data)
        for name, prefix in _LISTS.items():
            records = data.get(name)
            if not isinstance(records, list):
                continue
            out = []
            for number, record in enumerate(records, start=1):
                if isinstance(record, dict):
                    record = {"customer_id": customer_id, **record}
                    if prefix is not None:
                        record.setdefault("id", f"{prefix}{number}")
                out.append(record)
            filled[name] = out
        return filled

    @model_validator(mode="after")
    def _one_customer(self) -> Self:
        for name in _LISTS:
            for number, record in enumerate(getattr(self, name)):
                if record.customer_id != self.customer.id:
                    raise ValueError(
                        f"{name}[{number}] belongs to customer {record.customer_id!r}, "
                        f"not {self.customer.id!r}"
                    )
        return self


class InteractionSentiment(BaseModel):
    """The sentiment scoring used for one interaction, and where it came from."""

    interaction_id: str
    source: Literal["given", "analyzed", "none"] = Field(
        description="`given` in the request, `analyzed` here, `none` (no text, or unsupported)."
    )
    label: str = Field(description="positive, neutral, negative, mixed or unknown")
    score: float | None = None
    confidence: float | None = None
    language: str | None = None
    backend: str | None = None
    aspects: list[AspectSentiment] = []
    reason: str | None = Field(default=None, description="Why there is no sentiment.")


class AspectSummary(BaseModel):
    """How one aspect (delivery, price, …) fared across the customer's interactions."""

    aspect: str
    mentions: int
    positive: int
    neutral: int
    negative: int
    mean_score: float = Field(ge=-1, le=1)


class ScoreResponse(BaseModel):
    """Everything scoring says about the customer at `as_of`."""

    customer_id: str
    as_of: AwareDatetime
    scoring_version: str
    experience: ExperienceProfile = Field(description="Score 0-100 and each factor's points.")
    nps_class: NpsClass | None = Field(description="From the latest NPS answer.")
    loyalty_stage: LoyaltyStage
    churn: ChurnFlag | None = Field(description="Risk, flag and drivers; null with `churn_note`.")
    churn_note: str = ""
    sentiment: list[InteractionSentiment]
    aspects: list[AspectSummary]
    actions: list[ActionTask] = Field(description="Next-best actions, best first, with `why`.")
    skipped_actions: list[Skipped] = Field(description="Playbooks that matched but were held.")
