"""Fitting the per-CRM models scoring needs (run before scoring, on a schedule).

BG/NBD is fitted on every customer of the connection with purchases, not only on the ones a sync
touched, so one changed record does not move everybody's risk. Its probability is then
recalibrated on the connection's own history when that history allows (`churn.backtest`,
docs/churn.md), and the churn flag's threshold is chosen over that same population from the
stated `FlagPolicy`, on the probability scoring will show, not fixed at a magic 0.5. Too few
repeat buyers give no model, and scoring then says so instead of guessing
(`CustomerScore.churn_note`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from service.scoring.churn.backtest import fit_label_free
from service.scoring.churn.risk import population_risk
from service.scoring.churn.thresholds import FlagPolicy, threshold_for_share
from service.scoring.columns import columns_from_records, epoch_day
from service.scoring.customer import ScoringModels
from service.store.records import RecordStore

log = logging.getLogger(__name__)


def scoring_models(
    records: RecordStore,
    connection: str,
    as_of: datetime,
    policy: FlagPolicy | None = None,
) -> ScoringModels:
    """The connection's purchase model and the churn threshold `policy` chooses with it."""
    policy = policy or FlagPolicy()
    transactions = records.transactions(connection)
    customers = sorted({t.customer_id for t in transactions})
    if not customers:
        return ScoringModels(horizon_days=policy.horizon_days)
    columns = columns_from_records(customers, as_of, transactions=transactions)
    fitted = fit_label_free(
        columns.purchases, len(customers), epoch_day(as_of), policy.horizon_days
    )
    log.info("%s: %s", connection, fitted.note)
    if fitted.bgnbd is None:
        return ScoringModels(horizon_days=policy.horizon_days, churn_model_note=fitted.note)
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
    )
