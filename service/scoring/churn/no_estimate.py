"""The churn flag of a customer no model can judge, raised by a fresh complaint alone.

A quarter of the customers who complain have no churn estimate: no purchase yet, a CRM whose
purchase model is not fitted, a subscriber without a survival curve. Their complaint still
raises the flag (and so the CRM's automation and the flag webhook react), with no probability
and the reason there is none as the second driver: "No churn estimate: no purchases yet".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from service.domain import (
    ChurnFlag,
    ChurnModelKind,
    ChurnSegment,
    RiskDriver,
    Transaction,
    TransactionStatus,
)

NO_ESTIMATE = "no_churn_estimate"  # the name of the driver saying why there is no estimate
NO_PURCHASES = "no purchases yet"
NO_PURCHASE_MODEL = "no purchase model fitted yet"
NO_SURVIVAL_CURVE = "no survival curve fitted yet"
NO_SUBSCRIPTION_START = "no subscription start date"


def complaint_only_flag(
    common: dict[str, Any],
    complaint: Sequence[RiskDriver],
    segment: ChurnSegment,
    why_no_estimate: str,
) -> ChurnFlag | None:
    """The flag for a customer without an estimate: raised when `complaint` holds the fresh
    complaint's driver, else None (nothing to judge them by). `common` is risk.flag_context's."""
    if not complaint:
        return None
    return ChurnFlag(
        **common,
        probability=None,
        model=ChurnModelKind.COMPLAINT,
        segment=segment,
        flagged=True,
        drivers=(
            *complaint,
            RiskDriver(
                name=NO_ESTIMATE,
                text=f"No churn estimate: {why_no_estimate}",
                impact=0.0,
            ),
        ),
    )


def purchase_segment(
    customer_id: str, transactions: Sequence[Transaction], as_of: datetime
) -> tuple[ChurnSegment, str]:
    """(segment, why there is no estimate) of a buyer-type customer with no purchase model."""
    days = {
        t.occurred_at.date()
        for t in transactions
        if t.customer_id == customer_id
        and t.status is TransactionStatus.WON
        and t.occurred_at <= as_of
    }
    if not days:
        return ChurnSegment.NO_PURCHASE, NO_PURCHASES
    segment = ChurnSegment.REPEAT if len(days) > 1 else ChurnSegment.ONE_TIME
    return segment, NO_PURCHASE_MODEL
