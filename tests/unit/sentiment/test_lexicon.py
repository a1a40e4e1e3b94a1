# ruff: noqa: RUF001  (CJK full-width punctuation is the point of these strings)
"""The rule-based fast backend: negation, modifiers, contrast, Estonian endings, blockers."""

from __future__ import annotations

import pytest

from service.sentiment.lexicon_backend import LexiconModel
from service.sentiment.terms import TermMatcher, tokenize

LEXICON = LexiconModel()


def score(text: str, lang: str) -> float:
    return LEXICON.score_batch([text], lang)[0].score


@pytest.mark.parametrize(
    ("negated", "plain", "lang"),
    [
        ("không tệ chút nào", "rất tệ", "vi"),
        ("pole üldse halb", "väga halb", "et"),
        ("一点也不差", "太差了", "zh"),
        ("not bad at all", "really bad", "en"),
    ],
)
def test_negation_flips_a_negative_term(negated: str, plain: str, lang: str) -> None:
    assert score(negated, lang) > 0 > score(plain, lang)


def test_negation_does_not_cross_a_comma() -> None:
    assert score("not really, it was bad", "en") < 0


def test_intensifier_strengthens() -> None:
    assert score("rất chậm", "vi") < score("chậm", "vi") < 0


def test_after_contrast_weighs_more() -> None:
    assert score("The product is good but the delivery was terrible", "en") < 0
    assert score("Delivery was slow but the product is excellent", "en") > 0


def test_estonian_case_endings_match_prefix_terms() -> None:
    assert score("kehvad tooted", "et") < 0
    assert score("suurepärase teenindusega", "et") > 0


def test_blocker_keeps_courier_from_reading_as_fast() -> None:
    # "快递" (courier) contains "快" (fast); the neutral blocker stops a false positive.
    assert score("快递员把我的包裹弄丢了", "zh") < 0


def test_request_without_opinion_is_neutral_and_fairly_certain() -> None:
    polarity = LEXICON.score_batch(["please send invoice 4521"], "en")[0]
    assert polarity.score == 0.0
    assert polarity.certainty >= 0.5


def test_unknown_vocabulary_is_uncertain() -> None:
    assert LEXICON.score_batch(["the parcel came on Tuesday"], "en")[0].certainty < 0.3


def test_matcher_prefers_the_longest_term() -> None:
    matcher = TermMatcher({"chất lượng": ("a", 1.0), "chất lượng tốt": ("b", 2.0)})
    (match,) = matcher.scan(tokenize("Chất lượng tốt lắm"))
    assert match.term == "chất lượng tốt"


def test_tokenizer_splits_han_characters_and_keeps_words() -> None:
    assert tokenize("App一直crash，太失望") == ["app", "一", "直", "crash", "，", "太", "失", "望"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [("你好，你们周六几点开门？", "zh"), ("Khách hàng yêu cầu gửi bản sao hợp đồng.", "vi")],
)
def test_greetings_and_requests_holding_opinion_words_stay_neutral(text: str, lang: str) -> None:
    assert score(text, lang) == 0.0


def test_english_opinion_words_count_in_code_switched_text() -> None:
    assert score("App cứ bị crash, refund đâu rồi?", "vi") < 0
    assert score("客服很nice", "zh") > 0
