# ruff: noqa: RUF001  (CJK full-width punctuation is the point of these strings)
"""The whole pipeline on hand-written cases per language: negation, mixed, neutral, unknown."""

from __future__ import annotations

import pytest

from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.results import Label

# Estonian is not here: with no real labelled Estonian, its message labels come from the
# accurate backend alone (no lexicon stage), which reads "pole üldse halb" as opinion-free.
NEGATIONS = [
    ("không tệ chút nào", "vi"),
    ("一点也不差", "zh"),
    ("not bad at all", "en"),
]
NEUTRAL_REQUESTS = [
    ("please send invoice 4521", "en"),
    ("Vui lòng gửi hóa đơn 4521", "vi"),
    ("请把发票4521发给我", "zh"),
    ("Palun saatke arve 4521", "et"),
]
CLEAR = [
    ("The agent was rude and my refund is three weeks late.", "en", Label.NEGATIVE),
    ("Nhân viên rất nhiệt tình, tôi rất hài lòng.", "vi", Label.POSITIVE),
    ("客服态度太差了，我要投诉。", "zh", Label.NEGATIVE),
    ("Suurepärane teenindus, aitäh!", "et", Label.POSITIVE),
]


@pytest.mark.parametrize(("text", "lang"), NEGATIONS)
def test_negated_negative_is_positive(analyzer: SentimentAnalyzer, text: str, lang: str) -> None:
    result = analyzer.analyze(text)
    assert result.language == lang
    assert result.label is Label.POSITIVE
    assert result.score > 0


@pytest.mark.parametrize(("text", "lang"), NEUTRAL_REQUESTS)
def test_requests_are_neutral(analyzer: SentimentAnalyzer, text: str, lang: str) -> None:
    result = analyzer.analyze(text)
    assert (result.language, result.label) == (lang, Label.NEUTRAL)


@pytest.mark.parametrize(("text", "lang", "label"), CLEAR)
def test_clear_messages_with_fast_path_and_accurate_backend(
    analyzer: SentimentAnalyzer,
    accurate: SentimentAnalyzer,
    text: str,
    lang: str,
    label: Label,
) -> None:
    fast = analyzer.analyze(text)
    slow = accurate.analyze(text)
    assert fast.label is label
    assert slow.label is label
    assert slow.backend == "e5-head"
    assert 0.5 <= slow.confidence <= 1.0


def test_result_carries_language_backend_and_evidence(analyzer: SentimentAnalyzer) -> None:
    result = analyzer.analyze("The courier was rude and the parcel arrived broken.")
    assert result.backend in {"lexicon", "e5-head"}
    assert result.evidence
    assert -1.0 <= result.score <= 1.0


def test_unsupported_language_is_unknown_not_guessed(analyzer: SentimentAnalyzer) -> None:
    result = analyzer.analyze("Bonjour, je suis très déçu de votre service après-vente.")
    assert result.label is Label.UNKNOWN
    assert (result.score, result.confidence, result.backend) == (0.0, 0.0, "none")
    assert result.reason is not None
    assert "fr" in result.reason


def test_caller_hint_wins_over_detection(analyzer: SentimentAnalyzer) -> None:
    result = analyzer.analyze("Bonjour, je suis très déçu.", language="en")
    assert result.language == "en"
    assert result.label is not Label.UNKNOWN


def test_long_text_names_the_most_negative_sentence(analyzer: SentimentAnalyzer) -> None:
    email = (
        "Hello team. I ordered a blender on the 3rd of May. It arrived on time and looked fine. "
        "After two days the motor burned out and the kitchen smelled of smoke. "
        "I have written to you three times and nobody has answered. Regards, Anna."
    )
    result = analyzer.analyze(email)
    assert len(result.sentences) >= 5
    assert result.label is Label.NEGATIVE
    assert result.most_negative_sentence in {
        "After two days the motor burned out and the kitchen smelled of smoke.",
        "I have written to you three times and nobody has answered.",
    }
    worst = min(result.sentences, key=lambda s: s.score)
    assert worst.text == result.most_negative_sentence


def test_long_positive_text_has_no_most_negative_sentence(analyzer: SentimentAnalyzer) -> None:
    text = "Cảm ơn shop. Hàng đẹp lắm. Giao hàng nhanh. Nhân viên nhiệt tình. Sẽ ủng hộ tiếp."
    result = analyzer.analyze(text)
    assert result.label is Label.POSITIVE
    assert result.most_negative_sentence is None


def test_batch_keeps_order_and_languages(analyzer: SentimentAnalyzer) -> None:
    items = [(text, None) for text, _ in NEGATIONS]
    results = analyzer.analyze_batch(items)
    assert [r.language for r in results] == [lang for _, lang in NEGATIONS]


def test_long_chinese_complaint_is_negative(analyzer: SentimentAnalyzer) -> None:
    text = (
        "你好。我上个月在你们店里买了一台搅拌机。收到的时候包装还可以。"
        "但是用了两天电机就烧坏了，厨房里全是烟味。我已经给你们发了三封邮件，一直没有人回复。"
    )
    result = analyzer.analyze(text)
    assert result.label is Label.NEGATIVE
    assert result.most_negative_sentence is not None
    assert "烧坏" in result.most_negative_sentence or "没有人回复" in result.most_negative_sentence
