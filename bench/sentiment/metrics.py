"""Accuracy and macro-F1 (plain Python, so the numbers do not depend on a library's defaults)."""

from __future__ import annotations

from collections.abc import Sequence


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of exact matches."""
    if not gold:
        return float("nan")
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Unweighted mean F1 over the gold labels."""
    labels = sorted(set(gold))
    scores: list[float] = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else float("nan")


def binary(score: float) -> str:
    """Sign of a score for the two-class package data sets (0 counts as positive)."""
    return "negative" if score < 0 else "positive"
