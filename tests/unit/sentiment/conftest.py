"""Sentiment fixtures: the embedding model is loaded once per test session (it takes ~0.2 s and
~100 MB), and a lexicon-only analyzer for tests about the rules themselves."""

from __future__ import annotations

import pytest

from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.settings import SentimentSettings


@pytest.fixture(scope="session")
def analyzer() -> SentimentAnalyzer:
    """The default configuration: e5-head with the lexicon fast path."""
    built = SentimentAnalyzer(SentimentSettings())
    assert "e5-head" in built.backends, built.skipped
    return built


@pytest.fixture(scope="session")
def accurate() -> SentimentAnalyzer:
    """e5-head alone (no fast path, no cache)."""
    return SentimentAnalyzer(SentimentSettings(fast_path=False, cache_size=0))


@pytest.fixture(scope="session")
def lexicon_only() -> SentimentAnalyzer:
    """The project lexicon for every language, no embedding model."""
    return SentimentAnalyzer(SentimentSettings(backends={"*": ("lexicon",)}, fast_path=False))
