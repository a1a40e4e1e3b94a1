"""`scoring_models` fits the label-free churn models per connection, at an explicit as_of."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from service.domain import Customer, Transaction
from service.scoring.churn.risk import churn_flag
from service.scoring.churn.thresholds import FlagPolicy
from service.usecases.models import scoring_models

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)


class _Store:
    """The RecordStore methods scoring_models reads."""

    def __init__(self, transactions: list[Transaction], keys: dict[str, str] | None = None) -> None:
        self._transactions = transactions
        self._keys = keys or {}

    def transactions(self, connection: str | None = None) -> list[Transaction]:
        return self._transactions

    def crm_keys(self) -> dict[str, str]:
        return self._keys


def _shop(customers: int, history_days: int, seed: int = 1) -> list[Transaction]:
    """Customers joining over `history_days`, each buying at their own rate until they leave."""
    rng = np.random.default_rng(seed)
    out = []
    for c in range(customers):
        day = float(rng.uniform(0, history_days))
        rate = rng.gamma(0.8, 1 / 40)  # purchases per day
        leaves = day + rng.exponential(300)
        while day <= min(leaves, history_days):
            at = AS_OF - timedelta(days=history_days - day)
            out.append(
                Transaction(id=f"t{len(out)}", customer_id=f"c{c}", amount=20.0, occurred_at=at)
            )
            day += rng.exponential(1 / rate)
    return out


def test_a_shop_with_history_gets_a_recalibrated_risk_and_its_threshold() -> None:
    tx = _shop(1200, 720)
    models = scoring_models(_Store(tx), "shop", AS_OF, FlagPolicy(share=0.1))  # type: ignore[arg-type]
    assert models.bgnbd is not None
    assert models.risk_map is not None, models.churn_model_note
    assert models.churn_model_note.startswith("recalibrated on")
    # The threshold flags the riskiest 10 % of the probability the flag shows.
    ids = sorted({t.customer_id for t in tx})
    p = [
        churn_flag(
            Customer(id=cid),
            AS_OF,
            horizon_days=90,
            threshold=models.threshold,
            params=models.bgnbd,
            risk_map=models.risk_map,
            transactions=[t for t in tx if t.customer_id == cid],
        )
        for cid in ids
    ]
    flagged = np.mean([f.flagged for f in p if f is not None])
    assert flagged == pytest.approx(0.1, abs=0.02)


def test_a_young_shop_falls_back_to_plain_bgnbd_and_says_so() -> None:
    tx = _shop(1200, 80)  # every purchase is younger than the 90-day horizon
    models = scoring_models(_Store(tx), "shop", AS_OF)  # type: ignore[arg-type]
    assert models.bgnbd is not None
    assert models.risk_map is None
    assert "history too short" in models.churn_model_note


def test_the_fit_follows_the_crm_not_the_ids_a_database_gave_its_customers() -> None:
    # The same CRM synced into two databases: each gave the customers its own random ids.
    tx = _shop(1200, 720)
    crm = {f"c{c}": f"Contact/003{c:06d}" for c in range(1200)}
    rng = np.random.default_rng(7)
    ours = {old: f"u{n}" for n, old in enumerate(rng.permutation(sorted(crm)))}
    moved = [t.model_copy(update={"customer_id": ours[t.customer_id]}) for t in tx]
    one = scoring_models(_Store(tx, crm), "shop", AS_OF)  # type: ignore[arg-type]
    two = scoring_models(
        _Store(moved, {ours[c]: key for c, key in crm.items()}),  # type: ignore[arg-type]
        "shop",
        AS_OF,
    )
    assert one.risk_map is not None
    assert two.risk_map is not None
    assert one.churn_model_note == two.churn_model_note
    assert one.threshold == two.threshold
    assert one.risk_map == two.risk_map
