"""The hidden truth about each customer and how it shows: text polarity, scores, churn.

Each company has a mood (how well we serve it); each person's true ``experience`` in [0, 1] is
that mood plus personal noise. Experience drives, with noise, everything observable:

* the polarity of what the person writes (happy people praise, unhappy ones complain, people in
  between send mixed and neutral messages);
* survey scores (NPS 0-10, CSAT 1-5, CES 1-7 where 7 means "very easy");
* how often they open support cases, and how much they buy;
* whether they churn: the lower the experience, the likelier they stop buying at some point
  in the window; in the 120 days before that their mood visibly sours, so churn is
  predictable from the history, as it is in real life.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.data.model import SurveyKind, Truth
from sandbox.data.resources import ASPECTS
from sandbox.data.seeding import Choice
from sandbox.data.text import Polarity

# Aspects people talk about most, with how often each is someone's main concern.
_MAIN_ASPECT = Choice(ASPECTS, (26, 18, 20, 12, 10, 8, 6))
_ASPECT_COUNT = Choice((1, 2, 3), (45, 40, 15))
_DECLINE = timedelta(days=120)
_DECLINE_DEPTH = 0.3
_SCALES: dict[SurveyKind, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
# How people answer a rating scale, as (latent experience, share of the scale) points. Real
# answers are top-heavy: a customer who is merely content says 8 of 10 or 4 of 5, and the bottom
# of the scale is for the clearly unhappy. The first generator mapped the experience linearly
# (content = 6, a detractor), which put every market's NPS between -33 and -56 and CSAT near
# 57 %. With this curve the unhappiest fifth (experience under about 0.4, those who mostly
# complain and churn most) are detractors and the happier half promoters: NPS about +28, CSAT
# about 83 % satisfied and CES about 5 of 7 over the book, as in a healthy B2C business.
_ANSWER_CURVE = ((0.0, 0.0), (0.4, 0.65), (0.6, 0.85), (1.0, 1.0))


@dataclass(frozen=True, slots=True)
class Profile:
    """One person's hidden profile: the truth plus how active they are."""

    experience: float
    churned_at: datetime | None
    aspects: tuple[str, ...]
    orders_per_year: float

    def truth(self, person_id: str) -> Truth:
        """The ground-truth record for this profile."""
        return Truth(
            person_id=person_id,
            experience=self.experience,
            churned=self.churned_at is not None,
            churned_at=self.churned_at,
            main_aspects=self.aspects,
        )

    def mood_at(self, when: datetime) -> float:
        """Experience as it shows at ``when``: lower in the run-up to churn and after it."""
        if self.churned_at is None:
            return self.experience
        left = self.churned_at - when
        if left >= _DECLINE:
            return self.experience
        fraction = 1.0 if left <= timedelta(0) else 1.0 - left / _DECLINE
        return max(0.0, self.experience - _DECLINE_DEPTH * fraction)


def company_mood(rng: random.Random, service: float = 0.0) -> float:
    """How well a company is served overall; skewed towards satisfied, as most books are.

    ``service`` moves the whole market up or down (see ``markets.Market.service``)."""
    return min(1.0, max(0.0, rng.betavariate(2.6, 1.8) + service))


def draw_profile(rng: random.Random, mood: float, active_from: datetime, end: datetime) -> Profile:
    """Draw a person's profile; ``active_from`` is when their history starts in the window."""
    experience = min(0.99, max(0.01, mood + rng.gauss(0.0, 0.12)))
    count = _ASPECT_COUNT(rng)
    aspects: list[str] = []
    while len(aspects) < count:
        aspect = _MAIN_ASPECT(rng)
        if aspect not in aspects:
            aspects.append(aspect)
    # Churn probability over the window: ~4 % for delighted customers, ~70 % for the unhappiest.
    churn_probability = 0.04 + 0.75 * (1.0 - experience) ** 2.2
    churned_at = None
    earliest = active_from + timedelta(days=90)
    latest = end - timedelta(days=30)
    if rng.random() < churn_probability and earliest < latest:
        churned_at = earliest + (latest - earliest) * rng.random()
        churned_at = churned_at.replace(microsecond=0)
    # About two orders a year for the median customer; happier ones buy more.
    orders = rng.lognormvariate(0.45, 0.6) * (0.5 + experience)
    return Profile(round(experience, 4), churned_at, tuple(aspects), orders)


def pick_polarity(mood: float, rng: random.Random) -> Polarity:
    """The polarity of one message written in ``mood``."""
    positive = mood * mood
    negative = (1.0 - mood) * (1.0 - mood)
    neutral = 0.22  # requests and questions happen in any mood
    mixed = 1.4 * mood * (1.0 - mood)  # likeliest in between
    draw = rng.random() * (positive + negative + neutral + mixed)
    if draw < positive:
        return "positive"
    if draw < positive + negative:
        return "negative"
    return "neutral" if draw < positive + negative + neutral else "mixed"


def survey_score(kind: SurveyKind, mood: float, rng: random.Random, style: float = 0.0) -> int:
    """A survey score on ``kind``'s scale, driven by ``mood`` with answer noise.

    ``style`` is the market's rating style (``markets.Market.rating_style``)."""
    low, high = _SCALES[kind]
    latent = min(1.0, max(0.0, mood + style + rng.gauss(0.0, 0.1)))
    return low + round(_answer_share(latent) * (high - low))


def _answer_share(latent: float) -> float:
    """Where on a rating scale a person with ``latent`` experience answers (0 bottom, 1 top)."""
    for (x0, y0), (x1, y1) in itertools.pairwise(_ANSWER_CURVE):
        if latent <= x1:
            return y0 + (y1 - y0) * (latent - x0) / (x1 - x0)
    return 1.0


def score_polarity(kind: SurveyKind, score: int) -> Polarity:
    """What a comment next to ``score`` sounds like (NPS promoters praise, detractors complain)."""
    low, high = _SCALES[kind]
    share = (score - low) / (high - low)
    if share >= 0.85:
        return "positive"
    if share <= 0.5:
        return "negative"
    return "mixed" if share < 0.7 else "neutral"
