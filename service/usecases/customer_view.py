"""Read models of the customers API: a customer in lists, one customer's full profile, and an
account's roll-up of its contacts.

Scores, contributions and churn drivers are the ones the last scoring stored (nothing is
rescored on read); the sentiment trend, aspects and survey history are read from the stored
history of the one customer asked for (one query), so they always match what was pulled.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.domain import (
    ChurnFlag,
    ExperienceProfile,
    Interaction,
    Polarity,
    SurveyKind,
    SurveyResponse,
    TransactionStatus,
)
from service.scoring.groupings import Period, period_label
from service.scoring.intervals import mean_interval
from service.scoring.profile import LABELS
from service.scoring.rollup import account_profile
from service.scoring.surveys import MetricName, SurveyMetric, metric_by_group
from service.store.profiles import CustomerRecord, ProfileRepository
from service.store.records import Customers, RecordStore
from service.store.tables import Customer as CustomerRow
from service.store.tables import CustomerProfile, TaskLedger

TREND_WINDOW = timedelta(days=365)
HISTORY_ITEMS = 20


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class CrmRecordRef(_Out):
    """Where the customer (or account) lives in a CRM."""

    connection: str
    crm_object: str
    crm_id: str


class CustomerSummary(_Out):
    """A customer as lists show it, with the latest scoring."""

    id: str
    display_name: str
    email: str | None
    language: str | None
    owner: str | None = Field(description="The CRM id of the owning member of staff.")
    segment: str | None = Field(
        description="Loyalty stage from the last scoring (new, satisfied, loyal, advocate, "
        "at_risk, dissatisfied, lost); the value pushed to the CRM as the CEM segment."
    )
    experience_score: float | None = Field(description="0-100; null until first scored.")
    churn_risk: float | None = Field(description="Probability 0..1 over the churn horizon.")
    churn_flag: bool | None
    nps_class: str | None
    scored_at: datetime | None
    created_at: datetime
    updated_at: datetime = Field(description="Last change of the CRM record or of the scores.")

    @classmethod
    def of(cls, row: CustomerRow) -> CustomerSummary:
        return cls(
            id=row.id,
            display_name=row.display_name,
            email=row.email,
            language=row.language,
            owner=row.owner_ref,
            segment=row.segment,
            experience_score=row.experience_score,
            churn_risk=row.churn_risk,
            churn_flag=row.churn_flag,
            nps_class=row.nps_class,
            scored_at=row.scored_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class SentimentPoint(_Out):
    """Mean message sentiment in one calendar month."""

    period: str = Field(description="YYYY-MM (UTC).")
    n: int
    mean: float = Field(description="-1..1")
    ci_low: float | None = Field(description="95 % Student-t interval; null for one message.")
    ci_high: float | None
    negative: int


class CustomerAspect(_Out):
    """How often a topic came up in the customer's messages, and with which polarity."""

    aspect: str
    mentions: int
    positive: int
    neutral: int
    negative: int
    mean_score: float = Field(description="-1..1")
    last_mentioned_at: datetime


class OpenAction(_Out):
    """A next-best-action task we created that is still open."""

    playbook: str
    connection: str
    crm_task_id: str | None
    created_at: datetime
    subject: str | None = Field(description="From the latest plan, when it still proposes it.")
    why: str | None = None
    priority: str | None = None
    due_at: datetime | None = None


class ScorePoint(_Out):
    as_of: datetime
    experience_score: float | None
    churn_risk: float | None
    churn_flag: bool
    nps_class: str | None


class SurveyAnswer(_Out):
    kind: SurveyKind
    value: float
    scale: tuple[int, int]
    touchpoint: str | None
    channel: str | None
    occurred_at: datetime


class CustomerHistory(_Out):
    scores: list[ScorePoint] = Field(description=f"Newest {HISTORY_ITEMS} scorings, newest first.")
    surveys: list[SurveyAnswer] = Field(description=f"Newest {HISTORY_ITEMS} answers.")
    counts: dict[str, int] = Field(description="Stored records by kind.")
    last_activity_at: datetime | None


class CustomerProfileView(_Out):
    """Everything known about one customer."""

    customer: CustomerSummary
    crm_records: list[CrmRecordRef]
    account_ids: list[str]
    loyalty_stage: str | None
    experience: ExperienceProfile | None = Field(
        description="The last scoring: score, confidence and each factor's contribution "
        "(baseline + contributions = score) with its evidence."
    )
    factor_labels: dict[str, str] = Field(description="Readable names of the factors.")
    churn: ChurnFlag | None = Field(description="Risk, flag, model and drivers in words.")
    churn_note: str = Field(description="Why there is no churn estimate, when there is none.")
    sentiment_trend: list[SentimentPoint]
    aspects: list[CustomerAspect]
    open_actions: list[OpenAction]
    history: CustomerHistory


class AccountContact(CustomerSummary):
    role: str
    weight: float | None = Field(description="The contact's weight in the account score.")


class AccountChurn(_Out):
    scored_contacts: int
    flagged_contacts: int
    mean_risk: float | None
    max_risk: float | None


class AccountView(_Out):
    """An account's roll-up of its contacts."""

    id: str
    name: str
    domain: str | None
    crm_records: list[CrmRecordRef]
    experience: ExperienceProfile = Field(
        description="Weighted mean of the contacts' scores; contributions are the contacts "
        "(factor `contact:<id>`)."
    )
    churn: AccountChurn
    surveys: dict[str, SurveyMetric] = Field(
        description="NPS, CSAT and CES of all the contacts' answers (null below 30 answers)."
    )
    open_actions: int
    contacts: list[AccountContact]


def _refs(records: Sequence[CustomerRecord]) -> list[CrmRecordRef]:
    return [CrmRecordRef(connection=r.connection, crm_object=r.crm_object, crm_id=r.crm_id)
            for r in records]  # fmt: skip


def sentiment_trend(messages: Sequence[Interaction], as_of: datetime) -> list[SentimentPoint]:
    """Monthly mean sentiment of the scored messages in the year before `as_of`."""
    months: dict[str, list[tuple[float, Polarity]]] = defaultdict(list)
    for m in messages:
        s = m.sentiment
        if s is None or s.label is Polarity.UNKNOWN or not as_of - TREND_WINDOW < m.occurred_at:
            continue
        if m.occurred_at <= as_of:
            months[period_label(m.occurred_at, Period.MONTH)].append((s.score, s.label))
    points = []
    for label in sorted(months):
        values = [v for v, _ in months[label]]
        mean = statistics.fmean(values)
        low: float | None = None
        high: float | None = None
        if len(values) > 1:
            low, high = mean_interval(mean, statistics.stdev(values), len(values), -1.0, 1.0)
        points.append(
            SentimentPoint(
                period=label,
                n=len(values),
                mean=mean,
                ci_low=low,
                ci_high=high,
                negative=sum(1 for _, p in months[label] if p is Polarity.NEGATIVE),
            )
        )
    return points


def aspect_summary(messages: Sequence[Interaction], as_of: datetime) -> list[CustomerAspect]:
    """Topics of the year's messages, most negative mentions first."""
    found: dict[str, list[tuple[float, Polarity, datetime]]] = defaultdict(list)
    for m in messages:
        if m.sentiment is None or not as_of - TREND_WINDOW < m.occurred_at <= as_of:
            continue
        for a in m.sentiment.aspects:
            found[a.aspect].append((a.score, a.polarity, m.occurred_at))
    out = [
        CustomerAspect(
            aspect=aspect,
            mentions=len(items),
            negative=sum(1 for _, p, _ in items if p is Polarity.NEGATIVE),
            positive=sum(1 for _, p, _ in items if p is Polarity.POSITIVE),
            neutral=sum(1 for _, p, _ in items if p is Polarity.NEUTRAL),
            mean_score=statistics.fmean(s for s, _, _ in items),
            last_mentioned_at=max(t for _, _, t in items),
        )
        for aspect, items in found.items()
    ]
    return sorted(out, key=lambda a: (-a.negative, -a.mentions, a.aspect))


def _open_actions(tasks: Sequence[TaskLedger], document: dict[str, Any]) -> list[OpenAction]:
    planned = {p["playbook"]: p for p in document.get("planned_actions", [])}
    out = []
    for task in tasks:
        plan = planned.get(task.playbook, {})
        out.append(
            OpenAction(
                playbook=task.playbook,
                connection=task.connection,
                crm_task_id=task.crm_task_id,
                created_at=task.created_at,
                subject=plan.get("subject"),
                why=plan.get("why"),
                priority=plan.get("priority"),
                due_at=plan.get("due_at"),
            )
        )
    return out


def _last_activity(history: Customers | None) -> datetime | None:
    if history is None:
        return None
    moments = [r.occurred_at for r in history.surveys]
    moments += [r.occurred_at for r in history.interactions]
    moments += [r.occurred_at for r in history.transactions]
    moments += [c.opened_at for c in history.cases]
    return max(moments) if moments else None


def _stored(profile: CustomerProfile | None) -> tuple[ExperienceProfile | None, ChurnFlag | None]:
    """The stored experience profile and churn flag (None for a document that no longer fits)."""
    if profile is None:
        return None, None
    doc = profile.profile
    try:
        experience = ExperienceProfile.model_validate(doc["experience"])
        churn = ChurnFlag.model_validate(doc["churn"]) if doc.get("churn") else None
    except (KeyError, ValidationError):
        return None, None
    return experience, churn


class CustomerViews:
    """Builds the read models from the profile repository and the record store."""

    def __init__(self, profiles: ProfileRepository, records: RecordStore) -> None:
        self._profiles = profiles
        self._records = records

    def profile(self, customer_id: str, as_of: datetime) -> CustomerProfileView | None:
        row = self._profiles.customer(customer_id)
        if row is None:
            return None
        records = self._profiles.records(customer_id)
        stored = self._profiles.profile(customer_id)
        experience, churn = _stored(stored)
        document = stored.profile if stored else {}
        history = self._records.history([customer_id]).get(customer_id)
        messages = history.interactions if history else []
        answers = sorted(history.surveys if history else [], key=lambda r: r.occurred_at)
        counts = Counter[str]()
        if history is not None:
            counts.update(
                interactions=len(history.interactions),
                surveys=len(history.surveys),
                cases=len(history.cases),
                transactions=len(history.transactions),
            )
        return CustomerProfileView(
            customer=CustomerSummary.of(row),
            crm_records=_refs(records),
            account_ids=self._profiles.accounts_of(records),
            loyalty_stage=document.get("loyalty_stage"),
            experience=experience,
            factor_labels={
                c.factor: LABELS.get(c.factor, c.factor)
                for c in (experience.contributions if experience else ())
            },
            churn=churn,
            churn_note=document.get("churn_note", ""),
            sentiment_trend=sentiment_trend(messages, as_of),
            aspects=aspect_summary(messages, as_of),
            open_actions=_open_actions(self._profiles.open_tasks([customer_id]), document),
            history=CustomerHistory(
                scores=[
                    ScorePoint(
                        as_of=h.as_of,
                        experience_score=h.experience_score,
                        churn_risk=h.churn_risk,
                        churn_flag=h.churn_flag,
                        nps_class=h.nps_class,
                    )
                    for h in self._profiles.score_history(customer_id, HISTORY_ITEMS)
                ],
                surveys=[_answer(r) for r in reversed(answers[-HISTORY_ITEMS:])],
                counts=dict(counts),
                last_activity_at=_last_activity(history),
            ),
        )

    def account(self, account_id: str, as_of: datetime) -> AccountView | None:
        found = self._profiles.account(account_id)
        if found is None:
            return None
        account, records = found
        members = self._profiles.contacts(records)
        rows = {customer.id: customer for customer, _ in members}
        histories = self._records.history(rows)
        stored = self._profiles.profiles(rows)
        pairs = []
        revenue: dict[str, float] = {}
        last_active: dict[str, datetime] = {}
        for cid, history in histories.items():
            experience, _ = _stored(stored.get(cid))
            if experience is not None:
                pairs.append((history.customer, experience))
            revenue[cid] = sum(
                t.amount for t in history.transactions if t.status is TransactionStatus.WON
            )
            moment = _last_activity(history)
            if moment is not None:
                last_active[cid] = moment
        rollup = account_profile(account_id, as_of, pairs, revenue=revenue, last_active=last_active)
        weights = {c.factor.removeprefix("contact:"): c.weight for c in rollup.contributions}
        risks = [r.churn_risk for r in rows.values() if r.churn_risk is not None]
        answers = [a for h in histories.values() for a in h.surveys]
        surveys = {}
        for name in (MetricName.NPS, MetricName.CSAT, MetricName.CES_MEAN):
            try:
                result = metric_by_group(answers, name, lambda _r: "account")
            except ValueError:  # contacts answered on different scales: no single number
                continue
            if "account" in result:
                surveys[name.value] = result["account"]
        contacts = [
            AccountContact(
                **CustomerSummary.of(row).model_dump(),
                role=histories[cid].customer.role.value if cid in histories else "other",
                weight=weights.get(cid),
            )
            for cid, row in sorted(rows.items())
        ]
        return AccountView(
            id=account.id,
            name=account.name,
            domain=account.domain,
            crm_records=_refs(records),
            experience=rollup,
            churn=AccountChurn(
                scored_contacts=len(risks),
                flagged_contacts=sum(1 for r in rows.values() if r.churn_flag),
                mean_risk=statistics.fmean(risks) if risks else None,
                max_risk=max(risks) if risks else None,
            ),
            surveys=surveys,
            open_actions=len(self._profiles.open_tasks(rows)),
            contacts=contacts,
        )


def _answer(r: SurveyResponse) -> SurveyAnswer:
    return SurveyAnswer(
        kind=r.kind,
        value=r.value,
        scale=r.bounds,
        touchpoint=r.touchpoint,
        channel=r.channel.value if r.channel else None,
        occurred_at=r.occurred_at,
    )
