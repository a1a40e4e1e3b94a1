"""Sentiment for pulled messages, computed once while the text is at hand.

Message text is not stored unless configured, so sentiment and aspects are attached to the
interaction when it is pulled and kept with it; rescoring later never needs the text again.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.domain import DomainModel, Interaction
from service.sentiment.pipeline import SentimentAnalyzer


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
    found = analyzer.signals_batch([(r.text or "", r.language) for _, r in todo])
    out = list(records)
    for (index, record), signal in zip(todo, (f.signal for f in found), strict=True):
        if signal is not None:
            out[index] = record.model_copy(update={"sentiment": signal})
    return out
