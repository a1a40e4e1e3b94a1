"""Sentiment for pulled messages, computed once while the text is at hand.

Message text is not stored unless configured, so sentiment and aspects are attached to the
interaction when it is pulled and kept with it; rescoring later never needs the text again.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.domain import AspectSentiment, DomainModel, Interaction, Polarity, SentimentSignal
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.results import SentimentResult


def signal_of(result: SentimentResult) -> SentimentSignal | None:
    """The domain signal for an analyzer result; None when the language is unsupported."""
    if result.label.value == "unknown":
        return None
    return SentimentSignal(
        score=result.score,
        label=Polarity(result.label.value),
        confidence=result.confidence,
        language=result.language,
        backend=result.backend,
        aspects=tuple(
            AspectSentiment(
                aspect=a.aspect.value,
                polarity=Polarity(a.label.value)
                if a.label.value != "unknown"
                else Polarity.UNKNOWN,
                score=a.score,
            )
            for a in result.aspects
        ),
    )


def with_sentiment(
    records: Sequence[DomainModel], analyzer: SentimentAnalyzer | None
) -> list[DomainModel]:
    """The records, interactions with text given their sentiment (others unchanged)."""
    if analyzer is None:
        return list(records)
    todo = [
        (i, r)
        for i, r in enumerate(records)
        if isinstance(r, Interaction) and r.text and r.sentiment is None
    ]
    if not todo:
        return list(records)
    results = analyzer.analyze_batch([(r.text or "", r.language) for _, r in todo])
    out = list(records)
    for (index, record), result in zip(todo, results, strict=True):
        signal = signal_of(result)
        if signal is not None:
            out[index] = record.model_copy(update={"sentiment": signal})
    return out
