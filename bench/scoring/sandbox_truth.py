"""`python -m bench.scoring.sandbox_truth`: churn models against the generator's ground truth.

The sandbox generator decides, per customer, a hidden experience and whether and when they stop
buying (`truth.jsonl`). Here the labelled classifier is trained on monthly snapshots of the
generated history with that truth as the label (time-ordered split: train on early snapshots,
test on late ones), and the label-free BG/NBD P(no purchase) is scored against the same truth.
Message sentiment comes from the lexicon backend (fast; the embedding model changes little here).
Writes `bench/results/churn_sandbox_truth.json`.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from sandbox.data import model as sd
from sandbox.data.generate import generate, truths
from service.domain import (
    Case,
    CasePriority,
    CaseStatus,
    Channel,
    Customer,
    Direction,
    Interaction,
    SurveyKind,
    SurveyResponse,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from service.scoring.churn.bgnbd import fit_bgnbd, p_no_purchase
from service.scoring.churn.classifier import train_churn_classifier
from service.scoring.churn.features import History
from service.scoring.churn.summary import purchase_summary
from service.scoring.churn.training import LabelRule, snapshot_table
from service.scoring.columns import columns_from_records, epoch_day
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.settings import SentimentSettings
from service.usecases.annotate import with_sentiment

RESULT = Path(__file__).resolve().parents[1] / "results" / "churn_sandbox_truth.json"
HORIZON = 90
_CASE_STATUS = {
    "new": CaseStatus.NEW,
    "working": CaseStatus.OPEN,
    "escalated": CaseStatus.ESCALATED,
    "closed": CaseStatus.CLOSED,
}
_PRIORITY = {"low": CasePriority.LOW, "medium": CasePriority.NORMAL, "high": CasePriority.HIGH}


def domain_history(seed: int, customers: int) -> dict[str, list[Any]]:
    """The generated stream as canonical domain records (what a sync would have stored)."""
    out: dict[str, list[Any]] = {k: [] for k in ("customers", "tx", "it", "cases", "sv")}
    for r in generate(seed, customers):
        if isinstance(r, sd.Person):
            out["customers"].append(
                Customer(
                    id=r.id, display_name=r.first_name, language=r.language, created_at=r.created_at
                )
            )
        elif isinstance(r, sd.Transaction):
            out["tx"].append(
                Transaction(
                    id=r.id,
                    customer_id=r.person_id,
                    amount=float(r.amount),
                    currency=r.currency,
                    occurred_at=r.occurred_at,
                    kind=TransactionKind(r.kind),
                    status=TransactionStatus(r.status),
                )
            )
        elif isinstance(r, sd.Interaction):
            out["it"].append(
                Interaction(
                    id=r.id,
                    customer_id=r.person_id,
                    channel=Channel(r.channel),
                    direction=Direction(r.direction),
                    occurred_at=r.occurred_at,
                    text=r.text,
                    language=r.language,
                )
            )
        elif isinstance(r, sd.Case):
            status = _CASE_STATUS[r.status]
            out["cases"].append(
                Case(
                    id=r.id,
                    customer_id=r.person_id,
                    opened_at=r.opened_at,
                    closed_at=r.closed_at if status is CaseStatus.CLOSED else None,
                    status=status,
                    priority=_PRIORITY[r.priority],
                )
            )
        elif isinstance(r, sd.SurveyAnswer):
            out["sv"].append(
                SurveyResponse(
                    id=r.id,
                    customer_id=r.person_id,
                    kind=SurveyKind(r.kind),
                    value=float(r.score),
                    occurred_at=r.occurred_at,
                    touchpoint=r.touchpoint,
                )
            )
    return out


def scores(y: np.ndarray, p: np.ndarray, *, probability: bool = True) -> dict[str, float]:
    """Ranking metrics; the Brier score only for a probability (not for a raw rule like recency)."""
    result = {
        "roc_auc": round(float(roc_auc_score(y, p)), 3),
        "pr_auc": round(float(average_precision_score(y, p)), 3),
        "positives": int(y.sum()),
        "n": len(y),
    }
    if probability:
        result["brier"] = round(float(brier_score_loss(y, p)), 3)
    return result


def main(customers: int = 3000, seed: int = 11) -> dict[str, Any]:
    started = time.perf_counter()
    h = domain_history(seed, customers)
    analyzer = SentimentAnalyzer(SentimentSettings(backends={"*": ("lexicon",)}))
    h["it"] = with_sentiment(h["it"], analyzer)
    truth = {t.person_id: t for t in truths(seed, customers)}
    moments = [t.occurred_at for t in h["tx"]]
    start, end = min(moments), max(moments)
    snapshots = [start + timedelta(days=180 + 30 * k) for k in range(40)]
    snapshots = [s for s in snapshots if s + timedelta(days=HORIZON) <= end]
    table = snapshot_table(
        h["customers"],
        snapshots,
        horizon_days=HORIZON,
        label=LabelRule.NO_PURCHASE,
        history=History(
            surveys=h["sv"], interactions=h["it"], cases=h["cases"], transactions=h["tx"]
        ),
    )

    def truly_churns(cid: str, at: datetime) -> bool:
        t = truth[cid]
        return bool(
            t.churned
            and t.churned_at is not None
            and at < t.churned_at <= at + timedelta(days=HORIZON)
        )

    def already_gone(cid: str, at: datetime) -> bool:
        t = truth[cid]
        return bool(t.churned and t.churned_at is not None and t.churned_at <= at)

    keep = [
        not already_gone(c, a)
        for c, a in zip(table["customer_id"], table["snapshot_at"], strict=True)
    ]
    table = table[keep].reset_index(drop=True)
    y = np.array(
        [
            truly_churns(c, a)
            for c, a in zip(table["customer_id"], table["snapshot_at"], strict=True)
        ]
    )
    features = table.drop(columns=["customer_id", "snapshot_at", "churned"])
    outcome = train_churn_classifier(features, y, table["snapshot_at"], precision_target=0.6)
    result: dict[str, Any] = {
        "command": "python -m bench.scoring.sandbox_truth",
        "customers": customers,
        "seed": seed,
        "horizon_days": HORIZON,
        "snapshots": len(snapshots),
        "rows": len(table),
        "churn_rate": round(float(y.mean()), 3),
    }
    if outcome.classifier is None:
        result["classifier"] = {"trained": False, "reason": outcome.reason}
    else:
        result["classifier"] = outcome.classifier.card.model_dump(mode="json")
    # Label-free: BG/NBD fitted at the last snapshot, P(no purchase in H days) vs the truth.
    at = snapshots[-1]
    ids = [c.id for c in h["customers"] if not already_gone(c.id, at)]
    cols = columns_from_records(ids, at, transactions=h["tx"])
    s = purchase_summary(cols.purchases, len(ids), epoch_day(at))
    params = fit_bgnbd(s.x[s.buyer], s.t_x[s.buyer], s.age[s.buyer])
    p = p_no_purchase(params, HORIZON / params.unit_days, s.x, s.t_x, s.age)
    y_last = np.array([truly_churns(cid, at) for cid in ids])
    buyers = s.buyer
    result["bgnbd_at_last_snapshot"] = scores(y_last[buyers], p[buyers])
    recency = (s.age - s.t_x)[buyers]
    result["recency_rule_at_last_snapshot"] = scores(y_last[buyers], recency, probability=False)
    result["seconds"] = round(time.perf_counter() - started, 1)
    RESULT.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    print(json.dumps(main(size), indent=2, default=str)[:3000])
