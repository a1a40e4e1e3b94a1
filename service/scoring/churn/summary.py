"""Per-customer purchase summary (frequency, recency, age) from purchase columns.

Follows the BTYD convention (Fader, Hardie & Lee 2005): several purchases on one UTC calendar
day count as one; x = repeat purchase days (all days but the first), t_x = time from the first
to the last purchase day, age (the literature's T) = first purchase day to `as_of`, in units
of `unit_days`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.scoring.columns import F64, I64, I64_MAX, I64_MIN, PurchaseColumns


@dataclass(frozen=True, slots=True)
class PurchaseSummary:
    """x, t_x, age per customer (customers without purchases have `buyer == False`, zeros)."""

    x: F64
    t_x: F64
    age: F64  # the literature's T: first purchase to as_of
    buyer: np.ndarray
    monetary: F64  # mean amount per purchase day (0 for non-buyers)
    first_day: I64
    last_day: I64
    unit_days: float


def purchase_summary(
    p: PurchaseColumns, n: int, as_of_day: int, *, unit_days: float = 7.0
) -> PurchaseSummary:
    """Summarise purchases of customers 0..n-1 at `as_of_day` (UTC epoch day)."""
    if unit_days <= 0:
        raise ValueError("unit_days must be positive")
    keep = p.day <= as_of_day
    cust, day, amount = p.cust[keep], p.day[keep], p.amount[keep]
    # One row per (customer, day): sort by both, then mark the first row of each pair.
    order = np.lexsort((day, cust))
    cust, day, amount = cust[order], day[order], amount[order]
    new_pair = np.ones(len(cust), dtype=bool)
    new_pair[1:] = (cust[1:] != cust[:-1]) | (day[1:] != day[:-1])
    days_per_cust = np.bincount(cust[new_pair], minlength=n)
    spend = np.bincount(cust, weights=amount, minlength=n)
    # Start from the opposite extremes so the first real purchase always replaces them.
    first = np.full(n, I64_MAX, dtype=np.int64)
    last = np.full(n, I64_MIN, dtype=np.int64)
    np.minimum.at(first, cust, day)
    np.maximum.at(last, cust, day)
    buyer = days_per_cust > 0
    first = np.where(buyer, first, as_of_day)
    last = np.where(buyer, last, as_of_day)
    x = np.where(buyer, days_per_cust - 1, 0).astype(np.float64)
    t_x = np.where(buyer, (last - first) / unit_days, 0.0)
    age = np.where(buyer, (as_of_day - first) / unit_days, 0.0)
    monetary = np.where(buyer, spend / np.maximum(days_per_cust, 1), 0.0)
    return PurchaseSummary(
        x=x,
        t_x=t_x,
        age=age,
        buyer=buyer,
        monetary=monetary,
        first_day=first,
        last_day=last,
        unit_days=unit_days,
    )
