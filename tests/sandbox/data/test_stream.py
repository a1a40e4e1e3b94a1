"""The record stream: dependency order, referential integrity, invariants of every record."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from sandbox.data.generate import DEFAULT_START, WINDOW, generate, truths
from sandbox.data.model import (
    Case,
    Company,
    Interaction,
    Owner,
    Person,
    Record,
    SurveyAnswer,
    Transaction,
    Truth,
)
from sandbox.data.resources import phrase_bank
from tests.sandbox.data.conftest import SIZE

END = DEFAULT_START + WINDOW
SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def _times(record: Record) -> list[datetime]:
    if isinstance(record, Case):
        extra = [c.at for c in record.comments]
        closed = [record.closed_at] if record.closed_at else []
        return [record.opened_at, *closed, *extra]
    if isinstance(record, Owner):
        return []
    return [record.created_at if isinstance(record, Company | Person) else record.occurred_at]


def test_every_reference_points_to_a_record_earlier_in_the_stream(
    records: Sequence[Record],
) -> None:
    seen: set[str] = set()
    for record in records:
        if isinstance(record, Company | Person):
            assert record.owner_id in seen
        if isinstance(record, Person):
            assert record.company_id in seen
        if isinstance(record, Transaction | Interaction | Case):
            assert record.person_id in seen
            assert record.company_id in seen
        if isinstance(record, Interaction):
            assert record.owner_id in seen
        if isinstance(record, SurveyAnswer):
            assert record.person_id in seen
        assert record.id not in seen, f"duplicate id {record.id}"
        seen.add(record.id)


def test_owners_come_first_then_each_company_with_its_people(records: Sequence[Record]) -> None:
    kinds = [type(r) for r in records]
    first_other = next(i for i, k in enumerate(kinds) if k is not Owner)
    assert all(k is Owner for k in kinds[:first_other])
    assert Owner not in kinds[first_other:]
    company = None
    person = None
    for record in records[first_other:]:
        if isinstance(record, Company):
            company, person = record, None
        elif isinstance(record, Person):
            assert company is not None
            assert record.company_id == company.id
            person = record
        else:
            assert person is not None
            assert isinstance(record, Transaction | Interaction | Case | SurveyAnswer)
            assert record.person_id == person.id


def test_size_is_the_number_of_persons_and_each_has_one_truth(
    records: Sequence[Record], truth_by_person: dict[str, Truth]
) -> None:
    persons = [r.id for r in records if isinstance(r, Person)]
    assert len(persons) == SIZE
    assert list(truth_by_person) == persons
    counts = Counter(type(r).__name__ for r in records)
    # Every kind of record is present in a dataset of this size.
    assert set(counts) == {
        "Owner", "Company", "Person", "Transaction", "Interaction", "Case", "SurveyAnswer"
    }  # fmt: skip
    assert 1 < counts["Person"] / counts["Company"] < 3


def test_datetimes_are_utc_aware_whole_seconds_and_inside_the_window(
    records: Sequence[Record],
) -> None:
    for record in records:
        for moment in _times(record):
            assert moment.tzinfo is not None
            assert moment.utcoffset() == timedelta(0)
            assert moment.microsecond == 0
            assert moment < END
            if not isinstance(record, Company | Person):
                assert moment >= DEFAULT_START


def test_money_is_exact_and_amounts_add_up(records: Sequence[Record]) -> None:
    transactions = [r for r in records if isinstance(r, Transaction)]
    assert {t.kind for t in transactions} == {"order", "opportunity"}
    assert {t.status for t in transactions} == {"won", "lost", "open"}
    for t in transactions:
        assert isinstance(t.amount, Decimal)
        assert t.lines
        assert t.amount == sum((li.unit_price * li.quantity for li in t.lines), Decimal(0))
        if t.currency == "VND":
            assert t.amount % 1000 == 0
        else:
            assert t.amount.as_tuple().exponent == -2
        assert t.kind == "opportunity" or t.status == "won"


def test_cases_close_after_they_open_and_comments_are_in_order(records: Sequence[Record]) -> None:
    cases = [r for r in records if isinstance(r, Case)]
    assert any(c.closed_at is None for c in cases)
    assert any(c.closed_at for c in cases)
    for case in cases:
        times = [c.at for c in case.comments]
        assert times == sorted(times)
        assert all(t > case.opened_at for t in times)
        assert (case.status == "closed") == (case.closed_at is not None)
        if case.closed_at is not None:
            assert case.closed_at > case.opened_at
            assert any(c.by_customer is False for c in case.comments)


def test_survey_scores_are_on_their_scales(records: Sequence[Record]) -> None:
    answers = [r for r in records if isinstance(r, SurveyAnswer)]
    assert {a.kind for a in answers} == set(SCALES)
    for answer in answers:
        low, high = SCALES[answer.kind]
        assert low <= answer.score <= high
    for kind, (low, high) in SCALES.items():
        scores = {a.score for a in answers if a.kind == kind}
        assert scores == set(range(low, high + 1)), f"{kind} does not use its whole scale"


def test_churned_customers_stop_buying(
    records: Sequence[Record], truth_by_person: dict[str, Truth]
) -> None:
    churned = 0
    for t in (r for r in records if isinstance(r, Transaction) and r.kind == "order"):
        truth = truth_by_person[t.person_id]
        if truth.churned_at is not None:
            churned += 1
            assert t.occurred_at < truth.churned_at + timedelta(days=1)
    assert churned > 0


def test_history_is_in_time_order_with_ids_following_it(records: Sequence[Record]) -> None:
    last: dict[str, datetime] = {}
    for record in records:
        if isinstance(record, Owner | Company | Person):
            continue
        when = record.opened_at if isinstance(record, Case) else record.occurred_at
        assert when >= last.get(record.person_id, when)
        last[record.person_id] = when
        assert record.id.startswith(record.person_id.replace("p", record.id[0], 1) + "-")


def test_start_moves_the_window_and_naive_start_is_refused() -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    moved = [r for r in generate(3, 20, start=start) if isinstance(r, Transaction)]
    assert moved
    assert all(start <= t.occurred_at < start + WINDOW for t in moved)
    try:
        next(generate(3, 20, start=datetime(2020, 1, 1)))
    except ValueError:
        pass
    else:
        raise AssertionError("a naive start must be refused")
    assert next(truths(3, 1)).person_id == "p0000000"


def test_customers_write_in_their_own_daytime(records: Sequence[Record]) -> None:

    zone = {r.id: ZoneInfo(r.timezone) for r in records if isinstance(r, Person)}
    hours = [
        r.occurred_at.astimezone(zone[r.person_id]).hour
        for r in records
        if isinstance(r, Interaction) and r.direction == "inbound"
    ]
    daytime = sum(8 <= h <= 21 for h in hours) / len(hours)
    # Only the few moved back inside the window's edges may fall outside local daytime.
    assert daytime > 0.99, daytime


def test_new_customers_get_a_welcome_and_churned_ones_a_win_back(
    records: Sequence[Record], truth_by_person: dict[str, Truth]
) -> None:

    subjects = {
        kind: {s for lang in ("vi", "zh", "et", "en") for s in phrase_bank(lang).staff[kind]}
        for kind in ("welcome_subject", "winback_subject")
    }
    welcomed = {
        r.person_id
        for r in records
        if isinstance(r, Interaction) and r.subject in subjects["welcome_subject"]
    }
    new = {r.id for r in records if isinstance(r, Person) and r.created_at >= DEFAULT_START}
    assert welcomed == new
    won_back = {
        r.person_id
        for r in records
        if isinstance(r, Interaction) and r.subject in subjects["winback_subject"]
    }
    assert won_back
    assert all(truth_by_person[p].churned for p in won_back)


@pytest.mark.parametrize("size", [0, 1, 10])
def test_tiny_datasets(size: int) -> None:
    stream = list(generate(2, size))
    persons = [r for r in stream if isinstance(r, Person)]
    assert len(persons) == size
    assert sum(isinstance(r, Owner) for r in stream) == 8  # two per market at least
    assert [t.person_id for t in truths(2, size)] == [p.id for p in persons]
