"""A generated dataset shared by the data generator's tests (generated once per session)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sandbox.data.generate import generate, truths
from sandbox.data.model import Record, Truth

SEED = 20261122
SIZE = 1200


@pytest.fixture(scope="session")
def records() -> Sequence[Record]:
    """The full stream of a 1,200-customer dataset."""
    return tuple(generate(SEED, SIZE))


@pytest.fixture(scope="session")
def truth_by_person() -> dict[str, Truth]:
    """The ground truth of the same dataset, by person id."""
    return {t.person_id: t for t in truths(SEED, SIZE)}
