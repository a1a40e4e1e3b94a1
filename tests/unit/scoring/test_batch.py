"""Batch scoring gives exactly what the single-customer path gives, chunk by chunk."""

from __future__ import annotations

import numpy as np
import pytest

from service.domain import ChurnSegment, Customer
from service.scoring.batch import score_chunk, score_population
from service.scoring.churn.bgnbd import BgNbdParams
from service.scoring.churn.risk import SEGMENT_CODES, churn_flag
from service.scoring.churn.selflabel import FEATURES, RiskMap
from service.scoring.columns import columns_from_records
from service.scoring.profile import experience_profile
from service.scoring.segments import STAGE_ORDER, LoyaltyStage
from service.scoring.weights import FACTORS, default_weights
from tests.unit.scoring.builders import AS_OF, closed_case, message, open_case, purchase, survey

MODEL = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-1, n_customers=1)
RECALIBRATION = RiskMap(
    horizon_days=90,
    mean=(0.0,) * len(FEATURES),
    scale=(1.0,) * len(FEATURES),
    coef=(0.5, 0.1, -0.4, 0.1, 0.05, 0.2, -0.1),
    intercept=0.3,
    cut_day=0,
    n_examples=1,
    observed_rate=0.5,
)


def _population() -> tuple[list[str], dict[str, list]]:
    ids = ["a", "b", "c", "d", "e"]
    rec: dict[str, list] = {
        "surveys": [
            survey(3, days=5, customer="a"),
            survey(10, days=2, customer="b"),
            survey(9, days=90, customer="b"),
        ],
        "interactions": [
            message(-0.8, days=1, customer="a", aspects=("delivery",)),
            message(0.6, days=20, customer="c"),
            message(0.2, days=400, customer="e"),
        ],
        "cases": [open_case(10, customer="a"), closed_case(30, 20, customer="c")],
        "transactions": [
            purchase(200, customer="a"),
            purchase(100, customer="a"),
            purchase(5, customer="b"),
            purchase(300, customer="b"),
            purchase(250, customer="b"),
            purchase(50, customer="c"),
        ],
    }
    return ids, rec


@pytest.mark.parametrize("risk_map", [None, RECALIBRATION], ids=["bgnbd", "recalibrated"])
def test_batch_matches_the_explained_single_customer_path(risk_map: RiskMap | None) -> None:
    ids, rec = _population()
    w = default_weights()
    cols = columns_from_records(ids, AS_OF, **rec)
    table = score_chunk(
        np.array(ids),
        cols,
        weights=w,
        churn_model=MODEL,
        horizon_days=90,
        threshold=0.5,
        risk_map=risk_map,
    )
    assert len(table) == 5
    for i, cid in enumerate(ids):
        profile = experience_profile(cid, AS_OF, **rec)
        if profile.score is None:
            assert np.isnan(table.experience[i])
        else:
            assert table.experience[i] == pytest.approx(profile.score, abs=1e-9)
            for c in profile.contributions:
                assert table.points[i, FACTORS.index(c.factor)] == pytest.approx(c.points, abs=1e-9)
        flag = churn_flag(
            Customer(id=cid),
            AS_OF,
            horizon_days=90,
            threshold=0.5,
            params=MODEL,
            risk_map=risk_map,
            transactions=rec["transactions"],
        )
        if flag is None:
            assert np.isnan(table.churn_probability[i])
            assert SEGMENT_CODES[table.churn_segment[i]] is ChurnSegment.NO_PURCHASE
        else:
            assert table.churn_probability[i] == pytest.approx(flag.probability, abs=1e-12)
            assert SEGMENT_CODES[table.churn_segment[i]] is flag.segment
    assert table.last_nps[:2].tolist() == [3.0, 10.0]
    stages = [STAGE_ORDER[k] for k in table.loyalty_stage]
    assert stages[0] is LoyaltyStage.AT_RISK  # detractor
    assert stages[4] is LoyaltyStage.LOST  # last seen 400 days ago


def test_streaming_chunks_equals_one_big_chunk() -> None:
    ids, rec = _population()
    w = default_weights()
    whole = score_chunk(
        np.array(ids),
        columns_from_records(ids, AS_OF, **rec),
        weights=w,
        churn_model=MODEL,
        horizon_days=90,
        threshold=0.5,
    )
    parts = list(
        score_population(
            [
                (np.array(ids[:2]), columns_from_records(ids[:2], AS_OF, **rec)),
                (np.array(ids[2:]), columns_from_records(ids[2:], AS_OF, **rec)),
            ],
            weights=w,
            churn_model=MODEL,
        )
    )
    joined = np.concatenate([p.experience for p in parts])
    np.testing.assert_allclose(joined, whole.experience, equal_nan=True)
    np.testing.assert_allclose(
        np.concatenate([p.churn_probability for p in parts]),
        whole.churn_probability,
        equal_nan=True,
    )


def test_mismatched_ids_are_rejected() -> None:
    ids, rec = _population()
    with pytest.raises(ValueError, match="4 ids for 5 customers"):
        score_chunk(
            np.array(ids[:4]),
            columns_from_records(ids, AS_OF, **rec),
            weights=default_weights(),
            churn_model=MODEL,
            horizon_days=90,
            threshold=0.5,
        )
