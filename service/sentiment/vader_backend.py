"""`vader`: VADER (Hutto & Gilbert 2014, `vadersentiment` package, MIT) for English.

Used as the English fallback when the embedding backend cannot load and as the English peer in
the evaluation harness. VADER's compound score is already in [-1, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.sentiment.protocol import BackendUnavailableError, Polarity


class VaderModel:
    """English lexicon-and-rules scorer."""

    name = "vader"
    # VADER's authors' own neutral threshold on the compound score.
    neutral_band = 0.05

    def __init__(self) -> None:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as error:
            raise BackendUnavailableError(f"vaderSentiment is not installed: {error}") from error
        self._analyzer: Any = SentimentIntensityAnalyzer()

    def supports(self, language: str) -> bool:
        """English only."""
        return language == "en"

    def score_batch(self, texts: Sequence[str], language: str) -> list[Polarity]:
        """Compound score; certainty is the compound's size (VADER has no better signal)."""
        del language
        out: list[Polarity] = []
        for text in texts:
            compound = float(self._analyzer.polarity_scores(text)["compound"])
            out.append(Polarity(compound, abs(compound), ()))
        return out
