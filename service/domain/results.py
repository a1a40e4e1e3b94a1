"""What scoring produces: experience profiles, churn flags and next-best-action tasks.

Every result is frozen and carries `scoring_version`, the `as_of` it was computed for and the
number of inputs it rests on, so a stored score can always be traced to how it was made.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import Field, computed_field

from service.domain.base import AwareDatetime, DomainModel, NonEmptyStr


class FactorContribution(DomainModel):
    """How much one factor moved a score, and the evidence behind it."""

    factor: NonEmptyStr
    # Points added to (or taken from) the baseline; all points plus the baseline equal the score.
    points: float
    # The factor's own reading on 0..1 (1 = best experience) and its share of the weight.
    subscore: float = Field(ge=0.0, le=1.0)
    weight: float = Field(ge=0.0)
    evidence: str = ""
    count: int = Field(default=0, ge=0)


class ExperienceProfile(DomainModel):
    """A customer's (or account's) experience score 0-100 with each factor's contribution."""

    subject_id: NonEmptyStr
    as_of: AwareDatetime
    score: float | None = Field(default=None, ge=0.0, le=100.0)
    baseline: float = 50.0
    contributions: tuple[FactorContribution, ...] = ()
    # Share of the configured factor weight that had data (0 = no evidence at all).
    confidence: float = Field(ge=0.0, le=1.0)
    input_counts: dict[str, int] = Field(default_factory=dict)
    scoring_version: NonEmptyStr

    def contribution(self, factor: str) -> FactorContribution | None:
        """The contribution of one factor, or None when it had no data."""
        return next((c for c in self.contributions if c.factor == factor), None)


class ChurnModelKind(StrEnum):
    """Which model produced a churn probability."""

    BG_NBD = "bg_nbd"
    SURVIVAL = "survival"
    CLASSIFIER = "classifier"
    RECENCY = "recency"
    # No model could judge the customer (no purchases yet, no model fitted, a subscriber without
    # a curve): the flag stands on a fresh complaint alone and there is no probability.
    COMPLAINT = "complaint"


class ChurnSegment(StrEnum):
    """The population a customer's churn risk is judged within."""

    ONE_TIME = "one_time"
    REPEAT = "repeat"
    SUBSCRIPTION = "subscription"
    NO_PURCHASE = "no_purchase"


class RiskDriver(DomainModel):
    """One reason behind a churn risk, in words staff understand."""

    name: NonEmptyStr
    text: NonEmptyStr
    # Signed push on the risk (log-odds for classifiers, probability points otherwise).
    impact: float = 0.0


class ChurnFlag(DomainModel):
    """A customer's churn risk over a horizon, whether it is flagged, and why."""

    customer_id: NonEmptyStr
    as_of: AwareDatetime
    horizon_days: int = Field(gt=0)
    # None when no model could estimate it (model "complaint": the flag is the complaint's).
    probability: float | None = Field(ge=0.0, le=1.0)
    model: ChurnModelKind
    segment: ChurnSegment
    flagged: bool
    threshold: float = Field(ge=0.0, le=1.0)
    expected_purchases: float | None = Field(default=None, ge=0.0)
    p_alive: float | None = Field(default=None, ge=0.0, le=1.0)
    base_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    drivers: tuple[RiskDriver, ...] = ()
    # Experience signals shown beside the probability, never blended into it.
    warnings: tuple[str, ...] = ()
    input_counts: dict[str, int] = Field(default_factory=dict)
    scoring_version: NonEmptyStr


class TaskPriority(StrEnum):
    """Priority of a next-best-action task."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


def task_key(customer_id: str, playbook: str, reason: str) -> str:
    """The idempotency key of a task: a hash of (customer, playbook, reason).

    A rerun, a retry or a crash recomputes the same key, so the writer never makes a duplicate.
    """
    # The unit separator cannot occur in ids, so ("a", "bc") and ("ab", "c") never collide.
    raw = "\x1f".join((customer_id, playbook, reason)).encode()
    return hashlib.sha256(raw).hexdigest()[:40]


class ActionTask(DomainModel):
    """A next-best-action task for a member of staff."""

    customer_id: NonEmptyStr
    playbook: NonEmptyStr
    reason: NonEmptyStr
    subject: NonEmptyStr
    body: str
    due_at: AwareDatetime
    priority: TaskPriority = TaskPriority.NORMAL
    owner_id: str | None = None
    language: str = "en"
    # One sentence saying why this action was chosen, in the staff's language.
    why: str = ""
    expected_value: float = 0.0
    as_of: AwareDatetime
    scoring_version: NonEmptyStr

    @computed_field  # type: ignore[prop-decorator]
    @property
    def idempotency_key(self) -> str:
        """Stable key derived from (customer, playbook, reason)."""
        return task_key(self.customer_id, self.playbook, self.reason)
