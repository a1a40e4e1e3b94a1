"""From a `SentimentResult` (the sentiment layer's answer) to a `SentimentSignal` (scoring's input).

Shared by every path that scores text before scoring a customer: stateless `POST /v1/score`,
real-time ingestion and batch syncs, so they all feed scoring the same way.
"""

from __future__ import annotations

from service.domain import AspectSentiment, Polarity, SentimentSignal
from service.sentiment.results import Label, SentimentResult


def to_signal(result: SentimentResult) -> SentimentSignal | None:
    """The signal scoring should see, or None when the text's language is unsupported: an
    `unknown` label carries no evidence, and scoring it as neutral would make one up."""
    if result.label is Label.UNKNOWN:
        return None
    return SentimentSignal(
        score=result.score,
        label=Polarity(result.label.value),
        confidence=result.confidence,
        aspects=tuple(
            AspectSentiment(aspect=a.aspect.value, polarity=Polarity(a.label.value), score=a.score)
            for a in result.aspects
        ),
        language=result.language,
        backend=result.backend,
    )
