"""Stream a deterministic synthetic CRM dataset (first version: simple English-only content).

The public API is stable: ``generate(seed, customers, start=...)`` yields records in dependency
order (owners first, then per company: the company, its persons and each person's history) and
``truths(seed, customers)`` yields the hidden ground truth per person.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sandbox.data.model import (
    Company,
    Interaction,
    LineItem,
    Owner,
    Person,
    Record,
    SurveyAnswer,
    Transaction,
    Truth,
)
from sandbox.data.seeding import rng_for

DEFAULT_START = datetime(2024, 11, 1, tzinfo=UTC)
_OWNERS = 8


def _truth(seed: int, index: int) -> Truth:
    rng = rng_for(seed, index, "truth")
    experience = rng.random()
    churned = rng.random() < 0.5 * (1 - experience)
    at = DEFAULT_START + timedelta(days=rng.randint(365, 700)) if churned else None
    return Truth(f"p{index:07d}", round(experience, 4), churned, at, ("delivery",))


def generate(seed: int, customers: int, *, start: datetime | None = None) -> Iterator[Record]:
    """Yield ``customers`` persons (one company each in this first version) and their history."""
    base = start or DEFAULT_START
    for n in range(_OWNERS):
        yield Owner(f"o{n:04d}", f"Owner{n}", "Staff", f"owner{n}@example.com", "en")
    for index in range(customers):
        rng = rng_for(seed, index)
        owner = f"o{rng.randrange(_OWNERS):04d}"
        cid, pid = f"c{index:07d}", f"p{index:07d}"
        created = base + timedelta(days=rng.randint(0, 30))
        yield Company(
            cid,
            f"Company {index}",
            f"company{index}.com",
            "US",
            "Retail",
            owner,
            created,
            Decimal(rng.randint(1, 100) * 100000),
        )
        yield Person(
            pid,
            cid,
            "Alex",
            f"Smith{index}",
            f"alex{index}@company{index}.com",
            "+1 415 555 0100",
            "en",
            "US",
            "America/New_York",
            owner,
            created,
            False,
        )
        price = Decimal(rng.randint(10, 500))
        yield Transaction(
            f"t{index:07d}-01",
            pid,
            cid,
            "order",
            price,
            "USD",
            "won",
            created + timedelta(days=10),
            (LineItem("Desk lamp", 1, price),),
        )
        yield Interaction(
            f"i{index:07d}-01",
            pid,
            cid,
            "email",
            "inbound",
            "Delivery",
            "The delivery was fast.",
            "en",
            created + timedelta(days=20),
            owner,
        )
        yield SurveyAnswer(
            f"s{index:07d}-01",
            pid,
            "nps",
            rng.randint(0, 10),
            "",
            "en",
            "purchase",
            created + timedelta(days=21),
        )


def truths(seed: int, customers: int) -> Iterator[Truth]:
    """Yield the hidden ground truth for each of the ``customers`` persons, in stream order."""
    for index in range(customers):
        yield _truth(seed, index)
