"""CDNOW transaction files shipped inside the `lifetimes` wheel (test-only dependency).

The files are read straight from the installed distribution, without importing `lifetimes`
(unmaintained; its import pulls autograd and may break with newer numpy/pandas).
"""

from __future__ import annotations

from datetime import date
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from service.scoring.columns import PurchaseColumns

EPOCH = date(1970, 1, 1)


def dataset(name: str) -> Path:
    """Path of a file in lifetimes/datasets, or skip the test when lifetimes is not installed."""
    try:
        dist = metadata.distribution("lifetimes")
    except metadata.PackageNotFoundError:
        pytest.skip("lifetimes (dev dependency) is not installed")
    return Path(str(dist.locate_file(f"lifetimes/datasets/{name}")))


def epoch_day(d: date) -> int:
    return (d - EPOCH).days


def load_purchases(
    name: str, *, id_column: int, date_column: int, amount_column: int
) -> tuple[PurchaseColumns, int]:
    """Purchases of a whitespace-separated CDNOW file as columns; customers are 0..n-1."""
    raw = pd.read_csv(dataset(name), sep=r"\s+", header=None, comment=None, dtype=str)
    if not raw.iloc[0, date_column].isdigit():  # CDNOW_master.txt has a header line
        raw = raw.iloc[1:]
    ids = raw.iloc[:, id_column].astype(int).to_numpy()
    days = (
        pd.to_datetime(raw.iloc[:, date_column], format="%Y%m%d") - pd.Timestamp("1970-01-01")
    ).dt.days
    uniq, cust = np.unique(ids, return_inverse=True)
    cols = PurchaseColumns(
        cust=cust.astype(np.int64),
        day=days.to_numpy().astype(np.int64),
        amount=raw.iloc[:, amount_column].astype(float).to_numpy(),
    )
    return cols, len(uniq)
