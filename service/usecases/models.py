"""Fitting the per-CRM purchase model that churn risk needs (run before scoring, on a schedule).

BG/NBD is fitted on every customer of the connection with purchases, not only on the ones a sync
touched, so one changed record does not move everybody's risk. Too few repeat buyers give no
model, and scoring then says so instead of guessing (`CustomerScore.churn_note`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from service.scoring.churn.bgnbd import BgNbdParams, fit_bgnbd
from service.scoring.churn.summary import purchase_summary
from service.scoring.columns import columns_from_records, epoch_day
from service.store.records import RecordStore

log = logging.getLogger(__name__)

MIN_REPEAT_BUYERS = 30


def fit_purchase_model(
    records: RecordStore, connection: str, as_of: datetime
) -> BgNbdParams | None:
    """BG/NBD parameters from the connection's won transactions, or None when too few."""
    transactions = records.transactions(connection)
    customers = sorted({t.customer_id for t in transactions})
    if not customers:
        return None
    columns = columns_from_records(customers, as_of, transactions=transactions)
    summary = purchase_summary(columns.purchases, len(customers), epoch_day(as_of))
    buyers = summary.buyer
    if int((summary.x[buyers] > 0).sum()) < MIN_REPEAT_BUYERS:
        log.info("%s: too few repeat buyers for a purchase model", connection)
        return None
    try:
        return fit_bgnbd(summary.x[buyers], summary.t_x[buyers], summary.age[buyers])
    except (ValueError, ArithmeticError) as error:
        log.warning("%s: purchase model did not fit (%s)", connection, error)
        return None
