"""The lexicon peers in the same run: VADER for English and pysenti's rule classifier (BosonNLP
dictionary; the best Chinese lexicon we measured, docs/sentiment.md "Results") for Chinese."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def vader_scores(texts: Sequence[str]) -> list[float]:
    """VADER compound scores."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return [float(analyzer.polarity_scores(t)["compound"]) for t in texts]


def pysenti_scores(texts: Sequence[str]) -> list[float]:
    """pysenti rule-classifier scores (positive minus negative weight)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    from pysenti import rule_classfier  # the package's own spelling

    classifier: Any = rule_classfier.RuleClassifier()
    out: list[float] = []
    for text in texts:
        result = classifier.classify(text)
        out.append(float(result["score"]))
    return out
