"""A synthetic population for the scoring benchmark: 10 events per customer, no text.

Per customer: 2 survey answers (one NPS, one CSAT), 1 case (20 % still open), 1-5 purchases
and interactions for the rest (70 % with a sentiment score, some with negative aspects). Generated
vectorised and chunk by chunk, so the benchmark measures scoring, not Python loops.
"""

from __future__ import annotations

import numpy as np

from service.scoring.columns import (
    AspectColumns,
    CaseColumns,
    EventColumns,
    InteractionColumns,
    PurchaseColumns,
    SurveyColumns,
)

EVENTS_PER_CUSTOMER = 10
AS_OF_DAY = 20_600  # 2026-05-26, fixed so every run scores the same moment


def generate_chunk(n: int, seed: int) -> tuple[np.ndarray, EventColumns]:
    """Events of `n` customers (ids "c<seed>-<i>") as columns."""
    rng = np.random.default_rng(seed)
    ids = np.char.add(f"c{seed}-", np.arange(n).astype(str))

    def each(k: int) -> np.ndarray:
        return np.repeat(np.arange(n, dtype=np.int64), k)

    nps = rng.integers(0, 11, n).astype(np.float64)
    csat = rng.integers(1, 6, n).astype(np.float64)
    surveys = SurveyColumns(
        cust=each(2),
        age_days=rng.uniform(0, 365, 2 * n),
        value01=np.column_stack([nps / 10, (csat - 1) / 4]).ravel(),
        nps=np.column_stack([nps, np.full(n, np.nan)]).ravel(),
    )
    buys = rng.integers(1, 6, n)
    talks = EVENTS_PER_CUSTOMER - 3 - buys
    m = int(talks.sum())
    sentiment = np.clip(rng.normal(0.1, 0.5, m), -1, 1)
    sentiment[rng.random(m) < 0.3] = np.nan
    interactions = InteractionColumns(
        cust=np.repeat(np.arange(n, dtype=np.int64), talks),
        age_days=rng.uniform(0, 365, m),
        inbound=rng.random(m) < 0.6,
        sentiment=sentiment,
        confidence=rng.uniform(0.5, 1.0, m),
    )
    negative = np.flatnonzero(sentiment < -0.3)
    aspects = AspectColumns(
        cust=interactions.cust[negative],
        age_days=interactions.age_days[negative],
        code=rng.integers(0, 6, len(negative)),
    )
    is_open = rng.random(n) < 0.2
    cases = CaseColumns(
        cust=each(1),
        age_days=rng.uniform(0, 120, n),
        is_open=is_open,
        response_hours=rng.exponential(10, n),
        resolution_hours=np.where(is_open, np.nan, rng.exponential(48, n)),
        target_hours=np.full(n, 72.0),
    )
    # Each customer buys within their own active span and then may go quiet for a while.
    buyer = np.repeat(np.arange(n, dtype=np.int64), buys)
    quiet_for = rng.exponential(90.0, n)
    span = rng.uniform(30.0, 600.0, n)
    offsets = rng.uniform(0.0, 1.0, len(buyer)) * span[buyer] + quiet_for[buyer]
    purchases = PurchaseColumns(
        cust=buyer,
        day=AS_OF_DAY - offsets.astype(np.int64),
        amount=rng.gamma(2.0, 40.0, len(buyer)),
    )
    cols = EventColumns(
        n=n,
        as_of_day=AS_OF_DAY,
        surveys=surveys,
        interactions=interactions,
        aspects=aspects,
        cases=cases,
        purchases=purchases,
        aspect_names=("delivery", "price", "product_quality", "staff", "wait_time", "billing"),
    )
    return ids, cols
