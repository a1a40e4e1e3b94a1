"""Fitting the models scoring needs (run before scoring, on a schedule).

BG/NBD is fitted on every person with purchases, in every connection, not only on the ones a
sync touched, so one changed record does not move everybody's risk, and every connection's sync
fits the same model on the same whole histories it scores (a person with records in two CRMs
gets the same risk in both: docs/identity.md). Its probability is then recalibrated on that
history when it allows (`churn.backtest`, docs/churn.md), and the churn flag's threshold is
chosen over that same population from the stated `FlagPolicy`, on the probability scoring will
show, not fixed at a magic 0.5. A labelled model (`churn-train`) is trained per connection on
that CRM's own churn labels; a person is judged by the model of the first of their connections
(by name) that has one in use, whichever connection scores them. Too few repeat buyers give no
model, and scoring then says so instead of guessing (`CustomerScore.churn_note`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from service.scoring.churn.backtest import Fitted, fit_label_free
from service.scoring.churn.bgnbd import BgNbdParams
from service.scoring.churn.features import History
from service.scoring.churn.labelled import LabelledChurn
from service.scoring.churn.risk import population_risk
from service.scoring.churn.survival import SurvivalCurve
from service.scoring.churn.thresholds import FlagPolicy, threshold_for_share
from service.scoring.columns import columns_from_records, epoch_day
from service.scoring.customer import ScoringModels
from service.store.churn_models import ChurnModelRepository
from service.store.records import Customers
from service.usecases.repositories import RecordRepository

log = logging.getLogger(__name__)


def scoring_models(
    records: RecordRepository,
    connection: str,
    as_of: datetime,
    policy: FlagPolicy | None = None,
    trained_store: ChurnModelRepository | None = None,
) -> ScoringModels:
    """The connection's purchase model and the churn threshold `policy` chooses with it, plus
    what its last `churn-train` run left in `trained_store` (survival curves, and the labelled
    model where it beat the label-free one)."""
    policy = policy or FlagPolicy()
    trained = trained_models(trained_store, connection, policy, as_of)
    trained["labelled_elsewhere"] = labelled_elsewhere(trained_store, connection, policy, as_of)
    fitted = _label_free(records, as_of, policy.horizon_days)
    if fitted is None:
        return ScoringModels(horizon_days=policy.horizon_days, **trained)
    log.info("%s: %s", connection, fitted.note)
    if fitted.bgnbd is None:
        return ScoringModels(
            horizon_days=policy.horizon_days, churn_model_note=fitted.note, **trained
        )
    risk = population_risk(fitted.bgnbd, fitted.summary, policy.horizon_days, fitted.risk_map)
    choice = threshold_for_share(risk.p_quiet, policy.share)
    log.info(
        "%s: churn flag at P(no purchase in %d days) >= %.3f (%s, %.1f%% of buyers)",
        connection,
        policy.horizon_days,
        choice.threshold,
        choice.rule,
        100 * (choice.share_flagged or 0.0),
    )
    return ScoringModels(
        bgnbd=fitted.bgnbd,
        risk_map=fitted.risk_map,
        churn_model_note=fitted.note,
        horizon_days=policy.horizon_days,
        threshold=min(1.0, choice.threshold),
        **trained,
    )


def _label_free(records: RecordRepository, as_of: datetime, horizon_days: int) -> Fitted | None:
    """BG/NBD and its recalibration on every person's purchases (None: nobody bought).

    One population for every connection: a person is scored on their whole history, whichever
    connection's sync scores them, so the model is fitted on whole histories too, and every
    connection's sync fits the same one: each CRM holding the person gets the same risk
    (docs/identity.md)."""
    transactions = records.transactions()
    # In CRM order, not by our ids: the recalibration's held-out split is drawn by position, so
    # two databases synced from the same CRMs must list persons alike to fit alike.
    keys = records.crm_keys()
    customers = sorted({t.customer_id for t in transactions}, key=lambda c: (keys.get(c, ""), c))
    if not customers:
        return None
    columns = columns_from_records(customers, as_of, transactions=transactions)
    return fit_label_free(columns.purchases, len(customers), epoch_day(as_of), horizon_days)


def purchase_model(
    records: RecordRepository, connection: str, as_of: datetime, horizon_days: int
) -> BgNbdParams | None:
    """The BG/NBD fit `connection`'s scoring uses (None with too few repeat buyers): the one
    fitted on every person, as scoring fits it."""
    fitted = _label_free(records, as_of, horizon_days)
    return None if fitted is None else fitted.bgnbd


def labelled_elsewhere(
    store: ChurnModelRepository | None, connection: str, policy: FlagPolicy, as_of: datetime
) -> dict[str, LabelledChurn]:
    """The labelled models in use of every other connection (connection -> model): a person
    with records in several CRMs is judged by one of them, whichever connection scores them."""
    if store is None:
        return {}
    found: dict[str, LabelledChurn] = {}
    for other in store.connections():
        if other == connection:
            continue
        model = trained_models(store, other, policy, as_of).get("labelled")
        if model is not None:
            found[other] = model
    return found


def trained_models(
    store: ChurnModelRepository | None, connection: str, policy: FlagPolicy, as_of: datetime
) -> dict[str, Any]:
    """ScoringModels fields from the connection's last churn-train run ({} if none)."""
    stored = None if store is None else store.latest(connection)
    if stored is None:
        return {}
    out: dict[str, Any] = {}
    survival = stored.survival
    if survival:
        out["survival"] = SurvivalCurve.model_validate(survival["overall"])
        out["survival_by_plan"] = {
            plan: SurvivalCurve.model_validate(curve)
            for plan, curve in survival.get("by_plan", {}).items()
        }
        out["plan_attribute"] = survival.get("plan_attribute", "plan")
    horizon = stored.card.get("horizon_days")
    if stored.in_use and stored.classifier is not None and horizon == policy.horizon_days:
        out["labelled"] = LabelledChurn(
            classifier=stored.classifier,
            trained_at=stored.trained_at,
            threshold=max(1e-9, min(1.0, stored.card["threshold"]["threshold"])),
            roc_auc=stored.card["metrics"]["roc_auc"],
            label_free_auc=stored.card.get("label_free_roc_auc"),
        )
    elif stored.in_use:
        log.info("%s: the labelled churn model was trained for another horizon", connection)
    return out


def joined_history(histories: Mapping[str, Customers]) -> History:
    """The stored histories of many customers as one `History` (the churn features' input)."""
    return History(
        surveys=[r for h in histories.values() for r in h.surveys],
        interactions=[r for h in histories.values() for r in h.interactions],
        cases=[r for h in histories.values() for r in h.cases],
        transactions=[r for h in histories.values() for r in h.transactions],
    )
