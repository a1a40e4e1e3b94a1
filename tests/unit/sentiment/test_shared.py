"""One analyzer per process (`SharedAnalyzer`): the API and the jobs share it, and `?sentiment=
fast` gets a lexicon-only twin built from it without loading anything again."""

from __future__ import annotations

from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.settings import SentimentSettings
from service.sentiment.shared import SharedAnalyzer


def test_a_provided_analyzer_is_the_shared_one(analyzer: SentimentAnalyzer) -> None:
    shared = SharedAnalyzer(SentimentSettings())
    assert shared.loaded() is None
    shared.provide(analyzer)
    assert shared.loaded() is analyzer
    assert shared() is analyzer


def test_the_fast_twin_shares_the_loaded_lexicon(analyzer: SentimentAnalyzer) -> None:
    shared = SharedAnalyzer(analyzer.settings, analyzer)
    fast = shared.fast()
    assert shared.fast() is fast  # built once
    name = analyzer.settings.fast_backend
    assert list(fast.backends) == [name]
    assert fast.backends[name] is analyzer.backends[name]  # shared, not loaded again
    assert fast.settings.fast_path is False
    assert "loaded=True" in repr(shared)
