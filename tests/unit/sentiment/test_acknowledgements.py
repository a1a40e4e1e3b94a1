"""Acknowledgements are never negative (issue 14: a bare "ok" scored -0.67 in en and vi).

Texts are the user's reported cases and real labelled sentences: VSFC = UIT-VSFC train
(research licence, quoted short), UCI = UCI Sentiment Labelled Sentences (CC BY 4.0).
"""

from __future__ import annotations

import pytest

from service.sentiment.acknowledgements import is_acknowledgement
from service.sentiment.lexicon_backend import LexiconModel
from service.sentiment.pipeline import SentimentAnalyzer

LEXICON = LexiconModel()

# The user's list (en, vi, et, zh), then real ones: VSFC "Em xin cảm ơn." (positive), "Cảm ơn
# cô." (neutral), "Em cảm ơn." (neutral).
ACKNOWLEDGEMENTS = [
    ("ok", "en"),
    ("okay", "en"),
    ("thanks", "en"),
    ("thank you", "en"),
    ("ok", "vi"),
    ("cảm ơn", "vi"),
    ("vâng", "vi"),
    ("dạ", "vi"),
    ("aitäh", "et"),
    ("tänan", "et"),
    ("好的", "zh"),
    ("谢谢", "zh"),
    ("👍", "en"),
    ("Em xin cảm ơn.", "vi"),
    ("Cảm ơn cô.", "vi"),
    ("Em cảm ơn.", "vi"),
    ("cam on shop", "vi"),
]


@pytest.mark.parametrize(("text", "lang"), ACKNOWLEDGEMENTS)
def test_acknowledgements_are_recognised_and_never_negative(text: str, lang: str) -> None:
    assert is_acknowledgement(text, lang)
    polarity = LEXICON.score_batch([text], lang)[0]
    assert 0.0 <= polarity.score <= 0.6
    assert polarity.certainty >= 0.3  # the fast path answers it alone
    assert LEXICON.totals([text], lang)[0] >= 0.0


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Thank you for wasting my money.", "en"),  # UCI, negative: sarcasm is not an ack
        ("not ok", "en"),
        ("tänavu", "et"),  # "this year", not thanks
        ("", "en"),
        ("😡", "en"),
    ],
)
def test_other_texts_are_not_acknowledgements(text: str, lang: str) -> None:
    assert not is_acknowledgement(text, lang)


def test_unknown_language_still_recognises_acknowledgements() -> None:
    assert is_acknowledgement("👍", "und")
    assert is_acknowledgement("aitäh", "unknown")


@pytest.mark.parametrize(("text", "lang"), [("ok", "en"), ("ok", "vi"), ("Ok", None)])
def test_pipeline_does_not_call_ok_negative(
    analyzer: SentimentAnalyzer, text: str, lang: str | None
) -> None:
    assert analyzer.analyze(text, lang).score >= 0.0
