"""The one place the generator makes random number generators, and its weighted choice.

Every unit of generated data (a customer, a block of companies, the owner roster) gets its own
``random.Random`` seeded from the dataset seed and the unit's key. That is what makes the output
independent of streaming order and chunking: customer 123456 is the same whether it is generated
first, last or alone.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


def rng_for(seed: int, *key: object) -> random.Random:
    """Return a generator seeded from ``seed`` and ``key`` (string seeding is stable across runs).

    ``random.Random`` seeded with a ``str`` hashes it with SHA-512, so the sequence does not
    depend on ``PYTHONHASHSEED`` and is the same on every machine and Python 3.x release.
    """
    text = ":".join(str(part) for part in (seed, *key))
    # Synthetic test data, not secrets: a fast reproducible PRNG is exactly what we want here.
    return random.Random(text)  # noqa: S311


class Choice(Generic[T]):
    """A weighted choice with its cumulative weights computed once.

    ``random.choices`` rebuilds the cumulative weights on every call; the generator draws
    tens of millions of weighted choices from a few fixed tables, so they are prepared here.
    The draw is the same as ``random.choices(values, weights)[0]`` would make.
    """

    __slots__ = ("_cum", "_hi", "_total", "values")

    def __init__(self, values: Sequence[T], weights: Sequence[float]) -> None:
        if len(values) != len(weights) or not values:
            raise ValueError("values and weights must be non-empty and of equal length")
        self.values: tuple[T, ...] = tuple(values)
        self._cum = tuple(itertools.accumulate(float(w) for w in weights))
        self._total = self._cum[-1]
        self._hi = len(self._cum) - 1

    def __call__(self, rng: random.Random) -> T:
        """Draw one value."""
        return self.values[bisect.bisect(self._cum, rng.random() * self._total, 0, self._hi)]
