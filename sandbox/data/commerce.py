"""What customers buy: web-shop orders with line items and B2B opportunities."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sandbox.data.feedback import review, survey
from sandbox.data.markets import to_currency
from sandbox.data.model import LineItem, Transaction, TransactionKind, TransactionStatus
from sandbox.data.seeding import Choice
from sandbox.data.timeline import Timeline

_LINE_COUNT = Choice((1, 2, 3, 4), (50, 30, 15, 5))
_RETAIL_QUANTITY = Choice((1, 2, 3), (75, 18, 7))
_PACKAGE_COUNT = Choice((1, 2, 3), (55, 35, 10))


def order(t: Timeline, when: datetime) -> None:
    """An order, sometimes followed by a review and a CSAT survey."""
    rng, s = t.rng, t.s
    count = _LINE_COUNT(rng)
    chosen = rng.sample(t.products, count)
    lines = tuple(
        LineItem(
            p.names[s.person.language],
            rng.randint(1, 12) if s.buys_b2b else _RETAIL_QUANTITY(rng),
            to_currency(Decimal(p.usd), s.currency),
        )
        for p in chosen
    )
    t.last_product = chosen[0]
    when = t.local(when)
    _transaction(t, "order", "won", when, lines)
    if rng.random() < 0.22:
        review(t, when + timedelta(days=rng.randint(3, 14)))
    if rng.random() < 0.3:
        touchpoint = rng.choice(("delivery", "purchase"))
        survey(t, "csat", touchpoint, when + timedelta(days=rng.randint(2, 7)))


def opportunity(t: Timeline, when: datetime) -> None:
    """A B2B deal: open near the end of the window, lost after churn, else won or lost by mood."""
    rng, s = t.rng, t.s
    chosen = rng.sample(t.packages, _PACKAGE_COUNT(rng))
    lines = tuple(
        LineItem(
            p.names[s.person.language],
            rng.randint(1, 3),
            to_currency(Decimal(p.usd), s.currency),
        )
        for p in chosen
    )
    status: TransactionStatus
    churned = s.profile.churned_at
    if when > s.end - timedelta(days=60):
        status = "open"
    elif churned is not None and when > churned:
        status = "lost"
    else:
        won = rng.random() < 0.3 + 0.45 * s.profile.mood_at(when)
        status = "won" if won else "lost"
    _transaction(t, "opportunity", status, t.local(when, 9, 17), lines)


def _transaction(
    t: Timeline,
    kind: TransactionKind,
    status: TransactionStatus,
    when: datetime,
    lines: tuple[LineItem, ...],
) -> None:
    s = t.s
    amount = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    t.records.append(
        Transaction(
            id=t.next_id("t"),
            person_id=s.person.id,
            company_id=s.company.id,
            kind=kind,
            amount=amount,
            currency=s.currency,
            status=status,
            occurred_at=when,
            lines=lines,
        )
    )
