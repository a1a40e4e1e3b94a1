"""Score one customer end to end: the entry point for stateless and real-time scoring.

Bundles the explained experience profile, the churn risk (with the reason when there is none),
the loyalty stage and the next-best-action plan, all at one explicit `as_of`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.domain import (
    Account,
    Case,
    ChurnFlag,
    ContractKind,
    Customer,
    DomainModel,
    ExperienceProfile,
    Interaction,
    Owner,
    SurveyKind,
    SurveyResponse,
    Transaction,
    TransactionStatus,
)
from service.scoring.actions.engine import ActionPlan, PastTask, plan_actions
from service.scoring.actions.playbooks import PlaybookSet, default_playbooks
from service.scoring.actions.signals import customer_signals
from service.scoring.churn.bgnbd import BgNbdParams
from service.scoring.churn.labelled import LabelledChurn, Verdict, labelled_flag
from service.scoring.churn.risk import PurchaseRisk, churn_flag, purchase_risks
from service.scoring.churn.selflabel import RiskMap
from service.scoring.churn.summary import purchase_summary
from service.scoring.churn.survival import SurvivalCurve
from service.scoring.columns import columns_from_kept, days_before
from service.scoring.experience import experience_matrix
from service.scoring.profile import profile_of
from service.scoring.segments import LadderRules, LoyaltyStage, NpsClass, loyalty_stage, nps_class
from service.scoring.version import SCORING_VERSION
from service.scoring.weights import ExperienceWeights, default_weights


class ScoringModels(BaseModel):
    """The fitted models and configuration a scoring run uses (all optional but the defaults)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bgnbd: BgNbdParams | None = None
    # BG/NBD's probability recalibrated on the CRM's own history (None: plain BG/NBD is used).
    risk_map: RiskMap | None = None
    churn_model_note: str = ""  # what the fit did, or why there is no model / no recalibration
    survival: SurvivalCurve | None = None
    # Kaplan-Meier per plan (the customer's `plan_attribute`), where a plan had enough
    # subscribers; `survival` covers the rest.
    survival_by_plan: dict[str, SurvivalCurve] = Field(default_factory=dict)
    plan_attribute: str = "plan"
    # The model trained on the CRM's own outcomes, when it beat the label-free one out of time.
    labelled: LabelledChurn | None = None
    # The other connections' labelled models in use (connection -> model): a person with records
    # in several CRMs is judged by the model of the first of them (by name) that has one, so
    # every CRM holding them gets the same risk (service/usecases/sync.py, docs/identity.md).
    labelled_elsewhere: dict[str, LabelledChurn] = Field(default_factory=dict)
    horizon_days: int = Field(default=90, gt=0)
    threshold: float = Field(default=0.5, gt=0, le=1)
    base_rate: float | None = Field(default=None, ge=0, le=1)
    weights: ExperienceWeights = Field(default_factory=default_weights)
    playbooks: PlaybookSet = Field(default_factory=default_playbooks)
    ladder: LadderRules = LadderRules()

    @model_validator(mode="after")
    def _one_horizon(self) -> ScoringModels:
        if self.risk_map is not None and self.risk_map.horizon_days != self.horizon_days:
            raise ValueError("the risk map must be fitted for the models' horizon_days")
        return self


class CustomerScore(DomainModel):
    """Everything scoring says about one customer at `as_of`."""

    customer_id: str
    as_of: datetime
    experience: ExperienceProfile
    churn: ChurnFlag | None
    churn_note: str = ""
    loyalty_stage: LoyaltyStage
    nps_class: NpsClass | None = None
    actions: ActionPlan
    scoring_version: str = SCORING_VERSION


def _churn_note(customer: Customer, models: ScoringModels, bought: bool) -> str:
    if customer.contract is ContractKind.SUBSCRIPTION:
        if models.survival is None:
            return "subscriber: no survival curve fitted yet"
        return "subscriber without a subscription start date"
    if not bought:
        return "no purchase history: no churn estimate"
    return "no purchase model fitted yet for this CRM"


@dataclass(frozen=True)
class History:
    """One customer's input to `score_customers`: the arguments of `score_customer` but the
    shared ones (`as_of`, models, owners). Records of other customers are ignored."""

    customer: Customer
    surveys: Sequence[SurveyResponse] = ()
    interactions: Sequence[Interaction] = ()
    cases: Sequence[Case] = ()
    transactions: Sequence[Transaction] = ()
    account: Account | None = None
    history: Sequence[PastTask] = ()
    previous_flag: ChurnFlag | None = None
    customer_value: float | None = None
    verdict: Verdict | None = None


@dataclass(frozen=True, slots=True)
class _Kept:
    """A history's records that count at `as_of`: its customer's own, none later."""

    sv: list[SurveyResponse]
    it: list[Interaction]
    cs: list[Case]
    tx: list[Transaction]
    won: list[Transaction]

    @classmethod
    def of(cls, h: History, as_of: datetime) -> _Kept:
        cid = h.customer.id
        tx = [t for t in h.transactions if t.customer_id == cid and t.occurred_at <= as_of]
        return cls(
            sv=[r for r in h.surveys if r.customer_id == cid and r.occurred_at <= as_of],
            it=[r for r in h.interactions if r.customer_id == cid and r.occurred_at <= as_of],
            cs=[c for c in h.cases if c.customer_id == cid and c.opened_at <= as_of],
            tx=tx,
            won=[t for t in tx if t.status is TransactionStatus.WON],
        )


def score_customers(
    histories: Sequence[History],
    as_of: datetime,
    *,
    models: ScoringModels | None = None,
    owners: Mapping[str, Owner] | None = None,
) -> list[CustomerScore]:
    """Score many customers at once: `score_customer` of each, in order, with the same values.

    The numeric core runs once for all of them (one experience matrix over their columnar
    events, one BG/NBD pass over their purchases: service/scoring/batch.py's formulas); only
    what is said about each customer (evidence, drivers, stage, actions) is built one by one.
    Each customer's numbers are sums and extremes over their own rows only, in their own
    order, so they come out as they do for the customer scored alone."""
    m = models or ScoringModels()
    ids = [h.customer.id for h in histories]
    if len(set(ids)) != len(ids):
        raise ValueError("one history per customer: a customer's rows are found by their id")
    kept = [_Kept.of(h, as_of) for h in histories]
    cols = columns_from_kept(
        ids,
        as_of,
        surveys=[r for k in kept for r in k.sv],
        interactions=[r for k in kept for r in k.it],
        cases=[c for k in kept for c in k.cs],
        purchases=[t for k in kept for t in k.won],
        default_target_hours=m.weights.default_case_target_hours,
    )
    matrix = experience_matrix(cols, m.weights)
    risks: list[PurchaseRisk] | None = None
    if m.bgnbd is not None and len(cols.purchases.cust):
        summary = purchase_summary(
            cols.purchases, cols.n, cols.as_of_day, unit_days=m.bgnbd.unit_days
        )
        risks = purchase_risks(m.bgnbd, summary, m.horizon_days, m.risk_map)
    return [
        _score(
            h,
            k,
            as_of,
            m,
            owners,
            profile_of(h.customer.id, as_of, k.sv, k.it, k.cs, k.won, m.weights, matrix, row),
            risks[row] if risks is not None else None,
        )
        for row, (h, k) in enumerate(zip(histories, kept, strict=True))
    ]


def score_customer(
    customer: Customer,
    as_of: datetime,
    *,
    models: ScoringModels | None = None,
    surveys: Sequence[SurveyResponse] = (),
    interactions: Sequence[Interaction] = (),
    cases: Sequence[Case] = (),
    transactions: Sequence[Transaction] = (),
    account: Account | None = None,
    owners: Mapping[str, Owner] | None = None,
    history: Sequence[PastTask] = (),
    previous_flag: ChurnFlag | None = None,
    customer_value: float | None = None,
    verdict: Verdict | None = None,
) -> CustomerScore:
    """Score one customer from their history (records of other customers are ignored).

    `verdict` is the labelled model's word on this customer (`labelled.judge`, worked out for
    many customers at once); the model it names (else `models.labelled`) judges the churn risk."""
    one = History(
        customer,
        surveys,
        interactions,
        cases,
        transactions,
        account,
        history,
        previous_flag,
        customer_value,
        verdict,
    )
    [score] = score_customers([one], as_of, models=models, owners=owners)
    return score


def _score(
    h: History,
    k: _Kept,
    as_of: datetime,
    m: ScoringModels,
    owners: Mapping[str, Owner] | None,
    profile: ExperienceProfile,
    purchase_risk: PurchaseRisk | None,
) -> CustomerScore:
    """The rest of one customer's scoring, from their profile and purchase risk row."""
    customer, verdict = h.customer, h.verdict
    sv, it, cs, tx, won = k.sv, k.it, k.cs, k.tx, k.won
    # The verdict names its model: another connection's, for a person judged by their first CRM.
    judged_by = (verdict.model or m.labelled) if verdict is not None else None
    if verdict is not None and judged_by is not None:
        flag: ChurnFlag | None = labelled_flag(
            customer,
            as_of,
            verdict,
            judged_by,
            horizon_days=m.horizon_days,
            surveys=sv,
            interactions=it,
            cases=cs,
            transactions=tx,
            base_rate=judged_by.classifier.card.base_rate_test,
        )
    else:
        subscribed_plan = customer.attributes.get(m.plan_attribute)
        flag = churn_flag(
            customer,
            as_of,
            horizon_days=m.horizon_days,
            threshold=m.threshold,
            params=m.bgnbd,
            curve=m.survival_by_plan.get(str(subscribed_plan), m.survival),
            risk_map=m.risk_map,
            transactions=tx,
            surveys=sv,
            interactions=it,
            cases=cs,
            base_rate=m.base_rate,
            purchase_risk=purchase_risk,
        )
    moments = (
        [r.occurred_at for r in sv]
        + [r.occurred_at for r in it]
        + [t.occurred_at for t in won]
        + [c.opened_at for c in cs]
    )
    if customer.created_at is not None:
        moments.append(customer.created_at)
    nps_answers = sorted((r for r in sv if r.kind is SurveyKind.NPS), key=lambda r: r.occurred_at)
    last_nps = nps_answers[-1].value if nps_answers else None
    stage = loyalty_stage(
        tenure_days=days_before(min(moments), as_of) if moments else 0.0,
        purchase_days=len({t.occurred_at.astimezone(UTC).date() for t in won}),
        days_since_activity=days_before(max(moments), as_of) if moments else float("inf"),
        experience=profile.score,
        last_nps=last_nps,
        flagged=flag is not None and flag.flagged,
        churned=bool(customer.churned)
        or (customer.cancelled_at is not None and customer.cancelled_at <= as_of),
        rules=m.ladder,
    )
    signals = customer_signals(
        customer,
        as_of,
        profile=profile,
        flag=flag,
        previous_flag=h.previous_flag,
        surveys=sv,
        interactions=it,
        cases=cs,
        transactions=tx,
        customer_value=h.customer_value,
        loyalty_stage=stage.value,
        default_case_target_hours=m.weights.default_case_target_hours,
    )
    plan = plan_actions(
        customer,
        signals,
        as_of,
        account=h.account,
        owners=owners,
        history=h.history,
        playbooks=m.playbooks,
    )
    return CustomerScore(
        customer_id=customer.id,
        as_of=as_of,
        experience=profile,
        churn=flag,
        # A complaint flags a customer without an estimate too; the note still says why none.
        churn_note=""
        if flag is not None and flag.probability is not None
        else _churn_note(customer, m, bool(won)),
        loyalty_stage=stage,
        nps_class=nps_class(last_nps) if last_nps is not None else None,
        actions=plan,
    )
