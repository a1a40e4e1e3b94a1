"""The hidden experience shows in what customers write, how they score and whether they churn."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence

from sandbox.data.model import Interaction, Record, SurveyAnswer, Truth
from sandbox.data.resources import phrase_bank

SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def _quartiles(truths: dict[str, Truth]) -> tuple[set[str], set[str]]:
    ranked = sorted(truths.values(), key=lambda t: t.experience)
    quarter = len(ranked) // 4
    return {t.person_id for t in ranked[:quarter]}, {t.person_id for t in ranked[-quarter:]}


def test_survey_scores_follow_experience(
    records: Sequence[Record], truth_by_person: dict[str, Truth]
) -> None:
    scores: dict[str, list[float]] = defaultdict(list)
    for answer in records:
        if isinstance(answer, SurveyAnswer):
            low, high = SCALES[answer.kind]
            scores[answer.person_id].append((answer.score - low) / (high - low))
    people = sorted(scores)
    assert len(people) > 500
    correlation = statistics.correlation(
        [truth_by_person[p].experience for p in people],
        [statistics.fmean(scores[p]) for p in people],
    )
    assert correlation > 0.6, correlation


def test_unhappy_customers_write_more_negative_reviews(
    records: Sequence[Record], truth_by_person: dict[str, Truth]
) -> None:
    polarity_of = {
        title: polarity
        for lang in ("vi", "zh", "et", "en")
        for polarity, titles in phrase_bank(lang).review_titles.items()
        for title in titles
    }
    low, high = _quartiles(truth_by_person)
    counts: dict[str, dict[str, int]] = {name: defaultdict(int) for name in ("low", "high")}
    for r in records:
        if isinstance(r, Interaction) and r.channel == "review":
            group = "low" if r.person_id in low else "high" if r.person_id in high else None
            if group:
                counts[group][polarity_of[r.subject]] += 1

    def share(group: str, polarity: str) -> float:
        return counts[group][polarity] / sum(counts[group].values())

    assert share("low", "negative") > 3 * share("high", "negative")
    assert share("high", "positive") > 3 * share("low", "positive")
    # Mixed and neutral reviews exist at both ends, as in real shops.
    assert share("low", "mixed") > 0
    assert share("high", "neutral") > 0


def test_unhappy_customers_churn_more(truth_by_person: dict[str, Truth]) -> None:
    low, high = _quartiles(truth_by_person)

    def rate(group: set[str]) -> float:
        return sum(truth_by_person[p].churned for p in group) / len(group)

    assert rate(low) > 3 * rate(high)
    assert 0.05 < statistics.fmean(t.churned for t in truth_by_person.values()) < 0.5
    for truth in truth_by_person.values():
        assert (truth.churned_at is not None) == truth.churned
        assert 0.0 < truth.experience < 1.0
        assert 1 <= len(truth.main_aspects) <= 3


def test_texts_talk_about_the_customers_main_aspects(
    records: Sequence[Record], truth_by_person: dict[str, Truth]
) -> None:
    subjects = {
        subject: aspect
        for aspect, phrases in phrase_bank("en").aspects.items()
        for group in phrases.subjects.values()
        for subject in group
        if "{" not in subject
    }
    hits = total = 0
    for r in records:
        if isinstance(r, Interaction) and r.language == "en" and r.subject in subjects:
            total += 1
            hits += subjects[r.subject] in truth_by_person[r.person_id].main_aspects
    assert total > 50
    assert hits / total > 0.6


def test_negation_and_mixed_messages_occur_in_every_language(records: Sequence[Record]) -> None:
    markers = {
        "vi": (("chút nào",), ("nhưng", "Tuy nhiên", "có điều", "mỗi tội")),
        "zh": (("一点也不", "一点都不"), ("但是", "不过", "可是", "只是")),
        "et": (("üldse",), (", aga ", ", kuid ", "Samas", "Teisalt")),
        "en": (("at all",), (", but ", "However,", "On the other hand", "although")),
    }
    texts: dict[str, list[str]] = defaultdict(list)
    for r in records:
        if isinstance(r, Interaction) and r.direction == "inbound":
            texts[r.language].append(r.text)
    for lang, (negations, contrasts) in markers.items():
        assert sum(any(n in t for n in negations) for t in texts[lang]) > 10, lang
        assert sum(any(c in t for c in contrasts) for t in texts[lang]) > 10, lang


def test_mood_sours_before_churn(
    records: Sequence[Record], truth_by_person: dict[str, Truth]
) -> None:
    """Churn is predictable from the history: scores drop in the months before it."""
    before: list[float] = []
    earlier: list[float] = []
    for r in records:
        if not isinstance(r, SurveyAnswer):
            continue
        churned_at = truth_by_person[r.person_id].churned_at
        if churned_at is None or r.occurred_at >= churned_at:
            continue
        low, high = SCALES[r.kind]
        score = (r.score - low) / (high - low)
        left = (churned_at - r.occurred_at).days
        if left < 60:
            before.append(score)
        elif left > 150:
            earlier.append(score)
    assert len(before) > 20
    assert len(earlier) > 20
    assert statistics.fmean(before) < statistics.fmean(earlier) - 0.05
