"""Experience score: hand-computed cases, explanations and invariants."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain import Interaction, SurveyKind, SurveyResponse, Transaction
from service.scoring.profile import experience_profile, explain_change
from service.scoring.weights import default_weights, parse_weights
from tests.unit.scoring.builders import (
    AS_OF,
    closed_case,
    message,
    open_case,
    purchase,
    survey,
)


def test_single_promoter_scores_100() -> None:
    p = experience_profile("c1", AS_OF, surveys=[survey(10)])
    assert p.score == pytest.approx(100.0)
    only = p.contribution("surveys")
    assert only is not None
    assert only.points == pytest.approx(50.0)
    # Only surveys had data: 0.30 of the total weight 1.00.
    assert p.confidence == pytest.approx(0.30)


def test_detractor_with_fresh_purchase_hand_computed() -> None:
    # surveys subscore 0 (w 0.3), purchase recency 1 (w 0.1): score = 100 * 0.1 / 0.4 = 25;
    # contributions 100 * 0.3 * (0 - 0.5) / 0.4 = -37.5 and 100 * 0.1 * 0.5 / 0.4 = +12.5.
    p = experience_profile("c1", AS_OF, surveys=[survey(0)], transactions=[purchase(0)])
    assert p.score == pytest.approx(25.0)
    assert p.contribution("surveys").points == pytest.approx(-37.5)  # type: ignore[union-attr]
    assert p.contribution("purchase_recency").points == pytest.approx(12.5)  # type: ignore[union-attr]


def test_survey_answers_decay_with_their_half_life() -> None:
    # A 10 half a life ago (weight 0.5) and a 0 today (weight 1): subscore 0.5 / 1.5.
    p = experience_profile("c1", AS_OF, surveys=[survey(10, days=180), survey(0)])
    assert p.score == pytest.approx(100 / 3)


def test_csat_and_ces_are_normalised_on_their_own_scale() -> None:
    p = experience_profile(
        "c1", AS_OF, surveys=[survey(4, kind=SurveyKind.CSAT), survey(4, kind=SurveyKind.CES)]
    )
    # CSAT 4 on 1-5 -> 0.75; CES 4 on 1-7 -> 0.5; mean 0.625.
    assert p.score == pytest.approx(62.5)


def test_overdue_open_case_hand_computed() -> None:
    # Open 9 days against a 72 h target: 6 days overdue, load 0.693 * (1 + 6/7).
    p = experience_profile("c1", AS_OF, cases=[open_case(9)])
    assert p.score == pytest.approx(100 * math.exp(-0.693 * (1 + 6 / 7)))
    # Within its target an open case is neutral: exp(-ln 2) = 0.5.
    assert experience_profile("c1", AS_OF, cases=[open_case(1)]).score == pytest.approx(
        50.0, abs=0.01
    )
    assert p.contribution("open_cases").evidence == "1 open case, oldest open 9 days"  # type: ignore[union-attr]


def test_service_times_against_targets() -> None:
    # Resolved in 144 h against 72 h: ratio 0.5. No response time recorded.
    p = experience_profile("c1", AS_OF, cases=[closed_case(20, 144)])
    st_ = p.contribution("service_times")
    assert st_ is not None
    assert st_.subscore == pytest.approx(0.5)
    # The closed case also means the open-cases factor has data: no open case, subscore 1.
    assert p.contribution("open_cases").subscore == pytest.approx(1.0)  # type: ignore[union-attr]


def test_sentiment_weighted_by_confidence_and_aspects_counted() -> None:
    p = experience_profile(
        "c1",
        AS_OF,
        interactions=[
            message(-0.8, aspects=("delivery",)),
            message(-0.6, days=1, aspects=("delivery",)),
            message(1.0, confidence=0.0),
        ],
    )
    sentiment = p.contribution("sentiment")
    assert sentiment is not None
    # The zero-confidence positive message carries no weight.
    assert sentiment.subscore == pytest.approx(
        (0.1 * 1 + 0.2 * 0.5 ** (1 / 60)) / (1 + 0.5 ** (1 / 60))
    )
    assert sentiment.evidence == "2 negative chats of 3 messages"
    aspects = p.contribution("negative_aspects")
    assert aspects is not None
    assert aspects.count == 2
    assert aspects.evidence == "negative about delivery x2"


def test_no_data_gives_no_score() -> None:
    p = experience_profile("c1", AS_OF)
    assert p.score is None
    assert p.confidence == 0.0
    assert p.contributions == ()


def test_future_and_foreign_records_are_ignored() -> None:
    base = experience_profile("c1", AS_OF, surveys=[survey(9)])
    noisy = experience_profile(
        "c1", AS_OF, surveys=[survey(9), survey(0, days=-3), survey(0, customer="other")]
    )
    assert noisy.score == base.score


def test_explain_change_names_the_factors() -> None:
    before = experience_profile("c1", AS_OF, surveys=[survey(9, days=30)])
    after = experience_profile(
        "c1",
        AS_OF,
        surveys=[survey(9, days=30)],
        interactions=[
            message(-0.9, aspects=("delivery",)),
            message(-0.7, days=2, aspects=("delivery",)),
        ],
        cases=[open_case(9)],
    )
    change = explain_change(before, after)
    assert change.delta == pytest.approx(after.score - before.score)  # type: ignore[operator]
    assert sum(f.delta for f in change.factors) == pytest.approx(change.delta)
    assert change.delta < 0
    assert "message sentiment" in change.text
    assert "2 negative chats" in change.text
    assert "open cases" in change.text
    assert change.text.startswith(f"{change.delta:+.0f}: ")
    # The unchanged survey answer is not blamed for the drop.
    surveys = next(f for f in change.factors if f.factor == "surveys")
    assert surveys.delta == pytest.approx(0.0, abs=1e-9)
    assert "survey answers" not in change.text


def test_weights_yaml_errors_are_clear() -> None:
    with pytest.raises(ValueError, match=r"factors\.surveys\.weight"):
        parse_weights("factors: {surveys: {weight: -1, half_life_days: 1}}", source="w.yaml")
    with pytest.raises(ValueError, match="not valid YAML"):
        parse_weights("factors: [", source="w.yaml")
    assert sum(default_weights().weight_vector()) == pytest.approx(1.0)


def _history(
    draw: st.DrawFn,
) -> tuple[list[SurveyResponse], list[Interaction], list, list[Transaction]]:
    surveys = draw(st.lists(st.builds(survey, st.integers(0, 10), st.floats(0, 400)), max_size=5))
    msgs = draw(
        st.lists(
            st.builds(
                message,
                st.floats(-1, 1),
                st.floats(0, 400),
                aspects=st.sampled_from([(), ("delivery",), ("price", "staff")]),
                confidence=st.floats(0, 1),
            ),
            max_size=6,
        )
    )
    cases = draw(
        st.lists(
            st.one_of(
                st.builds(open_case, st.floats(0, 60)),
                st.builds(closed_case, st.floats(1, 300), st.floats(0, 500)),
            ),
            max_size=4,
        )
    )
    buys = draw(st.lists(st.builds(purchase, st.floats(0, 900)), max_size=4))
    return surveys, msgs, cases, buys


histories = st.composite(_history)()


@settings(max_examples=60, deadline=None)
@given(histories, st.randoms(use_true_random=False))
def test_contributions_sum_to_the_score_and_order_does_not_matter(
    history: tuple[list, list, list, list], rnd: random.Random
) -> None:
    sv, it, cs, tx = history
    p = experience_profile("c1", AS_OF, surveys=sv, interactions=it, cases=cs, transactions=tx)
    if p.score is None:
        # Only possible when nothing usable was in the look-back window (or had confidence).
        assert p.confidence == 0.0
        assert p.contributions == ()
        return
    assert 0.0 <= p.score <= 100.0
    assert p.baseline + sum(c.points for c in p.contributions) == pytest.approx(p.score, abs=1e-9)
    for rows in (sv, it, cs, tx):
        rnd.shuffle(rows)
    q = experience_profile("c1", AS_OF, surveys=sv, interactions=it, cases=cs, transactions=tx)
    assert q.score == pytest.approx(p.score, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(histories, st.integers(0, 6))
def test_a_fresh_detractor_answer_never_raises_the_score(
    history: tuple[list, list, list, list], value: int
) -> None:
    sv, it, cs, tx = history
    p = experience_profile("c1", AS_OF, surveys=sv, interactions=it, cases=cs, transactions=tx)
    q = experience_profile(
        "c1", AS_OF, surveys=[*sv, survey(0)], interactions=it, cases=cs, transactions=tx
    )
    assert q.score is not None
    if p.score is not None:
        assert q.score <= p.score + 1e-9


@settings(max_examples=40, deadline=None)
@given(histories, histories)
def test_explained_change_always_adds_up(
    first: tuple[list, list, list, list], second: tuple[list, list, list, list]
) -> None:
    a = experience_profile(
        "c1", AS_OF, surveys=first[0], interactions=first[1], cases=first[2], transactions=first[3]
    )
    b = experience_profile(
        "c1",
        AS_OF,
        surveys=second[0],
        interactions=second[1],
        cases=second[2],
        transactions=second[3],
    )
    if a.score is None or b.score is None:
        return
    change = explain_change(a, b)
    assert sum(f.delta for f in change.factors) == pytest.approx(b.score - a.score, abs=1e-9)
