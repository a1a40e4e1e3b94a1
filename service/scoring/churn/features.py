"""The churn model's features for customers at one moment: our profile plus the CRM's own fields.

One function builds them for training (every snapshot or label date) and for scoring (the sync's
customers at `as_of`), so the model is always applied to exactly the numbers it learnt from.

- Our profile: the experience score and its subscores, and the **raw evidence counts** behind
  them (surveys, analysed and negative messages, contacts, open and recent cases, purchases).
  Counts stay counts: the experience score caps contact frequency at its target, but churn can
  jump at a count the cap hides (a fourth service call).
- Purchases: repeat purchases, weeks since the last one, weeks as a buyer, mean spend, and the
  BG/NBD outputs when a purchase model is fitted.
- The CRM's fields the mappings name as `attributes.<name>` (plan, contract type, usage),
  prefixed `crm_` so they never collide with ours; numbers stay numeric, the rest categorical.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from service.domain import Case, Customer, Interaction, SurveyResponse, Transaction
from service.scoring.churn.bgnbd import BgNbdParams, expected_purchases, p_no_purchase
from service.scoring.churn.summary import purchase_summary
from service.scoring.columns import F64, I64, columns_from_records
from service.scoring.experience import experience_matrix
from service.scoring.weights import FACTORS, ExperienceWeights, default_weights

ATTRIBUTE_PREFIX = "crm_"
LOOKBACK_DAYS = (30.0, 90.0)
"""Windows for the recent-activity counts (a month and a quarter)."""


def _count(cust: I64, mask: np.ndarray, n: int) -> F64:
    return np.bincount(cust[mask], minlength=n).astype(np.float64)


@dataclass(frozen=True)
class History:
    """The records features are built from (of any customers: each row reads its own)."""

    surveys: Sequence[SurveyResponse] = ()
    interactions: Sequence[Interaction] = ()
    cases: Sequence[Case] = ()
    transactions: Sequence[Transaction] = ()

    def by_customer(self) -> dict[str, History]:
        """Each customer's own records (for building features group by group)."""
        parts: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for kind in KINDS:
            for record in getattr(self, kind):
                parts[record.customer_id][kind].append(record)
        return {
            cid: History(**{k: tuple(v) for k, v in kinds.items()}) for cid, kinds in parts.items()
        }

    @staticmethod
    def join(parts: Iterable[History]) -> History:
        """All the records of `parts` in one history."""
        items = list(parts)
        return History(**{k: tuple(r for h in items for r in getattr(h, k)) for k in KINDS})


KINDS = ("surveys", "interactions", "cases", "transactions")


@dataclass(frozen=True)
class FeatureSpec:
    """How features are computed: the purchase model (for its outputs), the churn horizon and
    the experience weights, the same at training and at scoring."""

    bgnbd: BgNbdParams | None = None
    horizon_days: int = 90
    weights: ExperienceWeights | None = field(default=None)


def profile_features(
    customers: Sequence[Customer],
    as_of: datetime,
    history: History = History(),
    spec: FeatureSpec = FeatureSpec(),
) -> pd.DataFrame:
    """One row per customer (in order) with the features known at `as_of` (nothing later)."""
    w = spec.weights or default_weights()
    ids = [c.id for c in customers]
    n = len(ids)
    cols = columns_from_records(
        ids,
        as_of,
        surveys=history.surveys,
        interactions=history.interactions,
        cases=history.cases,
        transactions=history.transactions,
        default_target_hours=w.default_case_target_hours,
    )
    exp = experience_matrix(cols, w)
    s = purchase_summary(cols.purchases, cols.n, cols.as_of_day)
    frame: dict[str, object] = {
        "experience_score": exp.score,
        **{f"sub_{name}": exp.subscores[:, k] for k, name in enumerate(FACTORS)},
        **{f"n_{name}": exp.counts[:, k].astype(np.float64) for k, name in enumerate(FACTORS)},
        "repeat_purchases": s.x,
        "weeks_since_purchase": np.where(s.buyer, s.age - s.t_x, np.nan),
        "weeks_as_buyer": np.where(s.buyer, s.age, np.nan),
        "mean_spend": np.where(s.buyer, s.monetary, np.nan),
        "contract": [c.contract.value for c in customers],
    }
    it, cs = cols.interactions, cols.cases
    negative = ~np.isnan(it.sentiment) & (it.sentiment < 0)
    for days in LOOKBACK_DAYS:
        recent = it.age_days <= days
        frame[f"contacts_{days:.0f}d"] = _count(it.cust, recent, n)
        frame[f"inbound_{days:.0f}d"] = _count(it.cust, recent & it.inbound, n)
        frame[f"negative_messages_{days:.0f}d"] = _count(it.cust, recent & negative, n)
        frame[f"cases_{days:.0f}d"] = _count(cs.cust, cs.age_days <= days, n)
    bgnbd = spec.bgnbd
    if bgnbd is not None:
        t = spec.horizon_days / bgnbd.unit_days
        frame["bgnbd_p_no_purchase"] = np.where(
            s.buyer, p_no_purchase(bgnbd, t, s.x, s.t_x, s.age), np.nan
        )
        frame["bgnbd_expected"] = np.where(
            s.buyer, expected_purchases(bgnbd, t, s.x, s.t_x, s.age), np.nan
        )
    table = pd.DataFrame(frame)
    return table.join(attribute_frame(customers))


def attribute_frame(customers: Sequence[Customer]) -> pd.DataFrame:
    """The mapped CRM fields as columns `crm_<name>`: numeric where every value is a number."""
    names = sorted({name for c in customers for name in c.attributes})
    out: dict[str, pd.Series] = {}
    for name in names:
        values = [c.attributes.get(name) for c in customers]
        numeric = all(
            v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values
        )
        out[ATTRIBUTE_PREFIX + name] = (
            pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
            if numeric
            else pd.Series([None if v is None else str(v) for v in values], dtype="object")
        )
    return pd.DataFrame(out, index=pd.RangeIndex(len(customers)))
