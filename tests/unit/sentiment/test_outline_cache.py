"""A text seen again skips language detection and the aspect scan (its outline is cached by
hash): the results are the same as with no cache at all, and the cache holds no message text."""

from __future__ import annotations

from typing import Any

from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.settings import SentimentSettings
from service.sentiment.signal import TextSignal

LEXICON: dict[str, Any] = {"backends": {"*": ("lexicon",)}, "fast_path": False}
TEXTS: list[tuple[str, str | None]] = [
    ("Zorblat: the delivery was late, the price is too high, but support was great.", None),
    ("Zorblat. Delivery late. Delivery late. Refund please!", "en"),  # repeated clauses
    ("Giao hàng trễ ba ngày, tôi rất thất vọng zorblat.", None),
    ("快递太慢了，客服也不回复 zorblat。", None),  # noqa: RUF001
    ("Tarne hilines ja hind on liiga kõrge zorblat.", "et"),
    (
        "Hello team. Zorblat here. The invoice was wrong again and nobody answered my emails. "
        "The app itself is fine, thanks. But the delivery took two weeks! Regards, Anna",
        None,
    ),
    ("zorblat zorblat", None),  # no language to find
]


def _dumps(analyzer: SentimentAnalyzer) -> list[dict[str, object]]:
    return [r.model_dump(exclude={"cached"}) for r in analyzer.analyze_batch(TEXTS)]


def test_seen_texts_give_the_results_of_an_uncached_analyzer() -> None:
    uncached = SentimentAnalyzer(SentimentSettings(**LEXICON, cache_size=0))
    cached = SentimentAnalyzer(SentimentSettings(**LEXICON))
    expected = _dumps(uncached)
    assert any(r["aspects"] for r in expected)  # the texts exercise aspects
    assert any(r["sentences"] for r in expected)  # and long texts
    first = _dumps(cached)
    assert len(cached.outlines) == len(TEXTS)
    again = _dumps(cached)
    assert first == expected
    assert again == expected
    assert all(r.cached for r in cached.analyze_batch(TEXTS) if r.backend != "none")


def test_the_same_text_with_another_hint_is_planned_again() -> None:
    analyzer = SentimentAnalyzer(SentimentSettings(**LEXICON))
    text = "Nhân viên hỗ trợ rất nhiệt tình, cảm ơn nhiều!"
    detected = analyzer.analyze(text)
    hinted = analyzer.analyze(text, "en")
    assert detected.language == "vi"
    assert hinted.language == "en"


def test_outlines_hold_no_message_text() -> None:
    analyzer = SentimentAnalyzer(SentimentSettings(**LEXICON))
    analyzer.analyze_batch(TEXTS)
    held = repr(list(analyzer.outlines._items.values()))
    assert "delivery" in held  # aspects are named...
    assert "zorblat" not in held.lower()  # ...but no text beyond the term lists' own words


# One more: a language without a backend gives no signal, only a reason.
SIGNAL_TEXTS = [*TEXTS, ("Доставка опоздала, zorblat.", "ru")]


def test_remembered_signals_equal_fresh_ones_and_hold_no_text() -> None:
    fresh = SentimentAnalyzer(SentimentSettings(**LEXICON, cache_size=0))
    expected = [TextSignal.of(r) for r in fresh.analyze_batch(SIGNAL_TEXTS)]
    assert any(s.signal is None for s in expected)  # an unsupported text keeps its reason
    assert any(s.signal is not None and s.signal.aspects for s in expected)
    analyzer = SentimentAnalyzer(SentimentSettings(**LEXICON))
    assert not analyzer.knows_signals(SIGNAL_TEXTS)
    first = analyzer.signals_batch(SIGNAL_TEXTS[:3])  # part first: the rest must not depend on it
    assert not analyzer.knows_signals(SIGNAL_TEXTS)
    assert first + analyzer.signals_batch(SIGNAL_TEXTS[3:]) == expected
    assert analyzer.knows_signals(SIGNAL_TEXTS)
    assert analyzer.signals_batch(list(reversed(SIGNAL_TEXTS))) == list(reversed(expected))
    held = repr(list(analyzer.signals._items.values()))
    assert "delivery" in held
    assert "zorblat" not in held.lower()


def test_remembering_no_signals_still_answers() -> None:
    analyzer = SentimentAnalyzer(SentimentSettings(**LEXICON, cache_size=0))
    assert analyzer.signals_batch(SIGNAL_TEXTS[:2]) == analyzer.signals_batch(SIGNAL_TEXTS[:2])
    assert len(analyzer.signals) == 0
    assert not analyzer.knows_signals(SIGNAL_TEXTS[:1])
