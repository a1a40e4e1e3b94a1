"""Test access to the real data sets: skip (not fail) when the dev packages are missing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import pytest

from bench.scoring import datasets

T = TypeVar("T")


def _or_skip(load: Callable[[], T]) -> T:
    try:
        return load()
    except datasets.DatasetMissingError as exc:
        pytest.skip(str(exc))


def dataset(name: str) -> Path:
    return _or_skip(lambda: datasets.lifetimes_file(name))


def load_purchases(name: str, **columns: int) -> tuple[datasets.PurchaseColumns, int]:
    return _or_skip(lambda: datasets.cdnow_purchases(name, **columns))


def telco() -> tuple[datasets.pd.DataFrame, datasets.np.ndarray]:
    return _or_skip(datasets.telco_churn)


def epoch_day(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def mlc() -> tuple[datasets.pd.DataFrame, datasets.np.ndarray]:
    return _or_skip(datasets.mlc_churn)
