"""The one place the generator makes random number generators.

Every unit of generated data (a customer, a block of companies, the owner roster) gets its own
``random.Random`` seeded from the dataset seed and the unit's key. That is what makes the output
independent of streaming order and chunking: customer 123456 is the same whether it is generated
first, last or alone.
"""

from __future__ import annotations

import random


def rng_for(seed: int, *key: object) -> random.Random:
    """Return a generator seeded from ``seed`` and ``key`` (string seeding is stable across runs).

    ``random.Random`` seeded with a ``str`` hashes it with SHA-512, so the sequence does not
    depend on ``PYTHONHASHSEED`` and is the same on every machine and Python 3.x release.
    """
    text = ":".join(str(part) for part in (seed, *key))
    # Synthetic test data, not secrets: a fast reproducible PRNG is exactly what we want here.
    return random.Random(text)  # noqa: S311
