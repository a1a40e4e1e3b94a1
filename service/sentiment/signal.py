"""From a `SentimentResult` (the sentiment layer's answer) to a `SentimentSignal` (scoring's input).

Shared by every path that scores text before scoring a customer: stateless `POST /v1/score`,
real-time ingestion and batch syncs, so they all feed scoring the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class TextSignal:
    """What scoring takes from the analysis of one text: its signal (None when the language is
    unsupported), the language used and, without a signal, why. It holds no text (a
    `SentimentSignal` has scores, labels and aspect names only), so it may be remembered by
    text hash like the analyzer's other caches."""

    signal: SentimentSignal | None
    language: str
    reason: str | None

    @classmethod
    def of(cls, result: SentimentResult) -> TextSignal:
        return cls(to_signal(result), result.language, result.reason)
