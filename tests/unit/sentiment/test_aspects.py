# ruff: noqa: RUF001  (CJK full-width punctuation is the point of these strings)
"""Aspects with their own polarity, in all four languages."""

from __future__ import annotations

import pytest

from service.sentiment.aspects import find_mentions
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.results import Aspect, Label

MIXED = [
    ("Product great, delivery terrible", "en"),
    ("Sản phẩm tuyệt vời, nhưng giao hàng quá chậm", "vi"),
    ("产品质量很好，但是物流太慢了", "zh"),
    ("Toode on suurepärane, aga tarne oli kohutavalt aeglane", "et"),
]


@pytest.mark.parametrize(("text", "lang"), MIXED)
def test_mixed_message_gets_opposite_aspect_polarities(
    analyzer: SentimentAnalyzer, text: str, lang: str
) -> None:
    result = analyzer.analyze(text)
    aspects = {a.aspect: a.label for a in result.aspects}
    assert result.language == lang
    assert aspects[Aspect.PRODUCT_QUALITY] is Label.POSITIVE
    assert aspects[Aspect.DELIVERY] is Label.NEGATIVE


@pytest.mark.parametrize(
    ("text", "aspect", "label"),
    [
        ("I was charged twice for one order", Aspect.BILLING_PAYMENT, Label.NEGATIVE),
        ("Tôi phải chờ máy hơn một tiếng, quá tệ", Aspect.WAIT_TIME, Label.NEGATIVE),
        ("退款很快就到账了，非常满意", Aspect.RETURNS_REFUNDS, Label.POSITIVE),
        ("Rakendus on väga mugav ja kiire", Aspect.APP_WEBSITE, Label.POSITIVE),
        ("Giá quá đắt", Aspect.PRICE, Label.NEGATIVE),
        ("店员非常热情", Aspect.STAFF_SERVICE, Label.POSITIVE),
    ],
)
def test_single_aspect_in_each_language(
    analyzer: SentimentAnalyzer, text: str, aspect: Aspect, label: Label
) -> None:
    aspects = {a.aspect: a for a in analyzer.analyze(text).aspects}
    assert aspects[aspect].label is label
    assert aspects[aspect].terms


def test_opinion_free_clause_takes_its_sentence_polarity(analyzer: SentimentAnalyzer) -> None:
    result = analyzer.analyze("About my invoice, this is a disgrace and a total scam")
    billing = next(a for a in result.aspects if a.aspect is Aspect.BILLING_PAYMENT)
    assert billing.label is Label.NEGATIVE


def test_code_switched_aspect_terms_are_found() -> None:
    mentions = find_mentions("Delivery quá chậm, refund đâu rồi?", ["vi"])
    assert {m.aspect for m in mentions} == {Aspect.DELIVERY, Aspect.RETURNS_REFUNDS}


def test_neutral_request_has_no_polar_aspect(analyzer: SentimentAnalyzer) -> None:
    result = analyzer.analyze("please send invoice 4521")
    assert [(a.aspect, a.label) for a in result.aspects] == [
        (Aspect.BILLING_PAYMENT, Label.NEUTRAL)
    ]
