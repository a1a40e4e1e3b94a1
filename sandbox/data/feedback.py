"""Customers' verdicts: e-commerce reviews and survey answers (NPS, CSAT, CES) with comments."""

from __future__ import annotations

from datetime import datetime

from sandbox.data.experience import score_polarity, survey_score
from sandbox.data.model import SurveyAnswer, SurveyKind
from sandbox.data.text import pick_aspects
from sandbox.data.timeline import Timeline


def review(t: Timeline, when: datetime) -> None:
    """A review a few days after an order: a headline and a verdict in the person's mood."""
    if when >= t.s.end:
        return
    when = t.local(when)
    polarity = t.mood_polarity(when)
    slots = t.slots()
    body, _, _ = t.message(polarity, slots, statement=True)
    title = t.text.review_title(polarity, t.rng)
    t.interaction(when, "review", "inbound", title, body)


def survey(t: Timeline, kind: SurveyKind, touchpoint: str, when: datetime) -> None:
    """A survey answer at ``when``; about half carry a comment matching the score."""
    rng, s = t.rng, t.s
    if when >= s.end:
        return
    when = t.local(when)
    score = survey_score(kind, s.profile.mood_at(when), rng, s.rating_style)
    comment = ""
    if rng.random() < 0.55:
        polarity = score_polarity(kind, score)
        aspect, other = pick_aspects(s.profile.aspects, rng)
        if polarity == "mixed":
            template = t.text.contrast(other, aspect, rng)
        else:
            template = t.text.sentence(
                "overall" if polarity == "neutral" else aspect, polarity, rng
            )
        comment = t.slots().fill(template)
    t.records.append(
        SurveyAnswer(
            id=t.next_id("s"),
            person_id=s.person.id,
            kind=kind,
            score=score,
            comment=comment,
            language=s.person.language,
            touchpoint=touchpoint,
            occurred_at=when,
        )
    )
