"""Head file parsing, the cache's bounds, sentence and clause splitting, settings validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from service.sentiment.cache import ResultCache, text_key
from service.sentiment.head import HeadFileError, load_head, parse_head
from service.sentiment.segments import split_clauses, split_sentences
from service.sentiment.settings import SentimentSettings


def _head(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"format": 2, "embedding": "e5", "prefix": "query: "}
    data.update({"bias": 0.0, "weights": [1.0, -1.0], "neutral_threshold": 0.5})
    data.update({"opinion_bias": 0.0, "opinion_weights": [0.0, 0.0, -4.0]})
    data.update({"combine": {"en": [1.0, 0.0, 0.0, 0.5]}})
    data.update(changes)
    return data


def test_shipped_head_loads_with_its_blends_and_threshold() -> None:
    head = load_head()
    assert head.weights.shape == (384,)
    assert head.opinion_weights.shape == (385,)
    assert 0.0 < head.neutral_threshold < 1.0
    # Blends are learned only where real labelled text exists.
    assert {"en", "vi", "zh"} <= set(head.combine)
    assert head.meta["sources"]


def test_blend_reads_the_rule_sum_only_where_it_was_learned() -> None:
    head = parse_head(_head())
    a = np.zeros(2)
    low, high = head.blended(a, "en", None, np.array([-2.0, 2.0]))
    assert low < 0.0 < high
    assert list(head.blended(a, "vi", None, np.array([-2.0, 2.0]))) == [0.0, 0.0]


def test_strong_polarity_lowers_the_chance_of_no_opinion() -> None:
    head = parse_head(_head())
    x = np.zeros((2, 2), dtype=np.float32)
    weak, strong = head.no_opinion(x, np.array([0.0, 6.0]))
    assert strong < weak


@pytest.mark.parametrize(
    "bad",
    [
        _head(format=1),
        _head(neutral_threshold=0.0),
        _head(weights=[]),
        _head(opinion_weights=[1.0]),
        {"format": 2},
    ],
)
def test_bad_head_files_fail_with_a_clear_error(bad: dict[str, Any]) -> None:
    with pytest.raises(HeadFileError):
        parse_head(bad)


def test_cache_is_bounded_and_keys_hide_text() -> None:
    cache: ResultCache[int] = ResultCache(2)
    for i, key in enumerate("abc"):
        cache.put(key, i)
    assert (cache.get("a"), cache.get("c"), len(cache)) == (None, 2, 2)
    key = text_key("my secret complaint", "en", "v1")
    assert "secret" not in key
    assert key != text_key("my secret complaint", "vi", "v1")


def test_cache_of_size_zero_stores_nothing() -> None:
    cache: ResultCache[int] = ResultCache(0)
    cache.put("a", 1)
    assert cache.get("a") is None


@pytest.mark.parametrize(
    ("sentence", "clauses"),
    [
        ("Product great, delivery terrible", ["Product great", "delivery terrible"]),
        ("hàng đẹp nhưng giao chậm", ["hàng đẹp", "nhưng giao chậm"]),
        ("质量很好但是物流太慢了", ["质量很好", "但是物流太慢了"]),
        ("Toode on super, aga tarne oli aeglane", ["Toode on super", "aga tarne oli aeglane"]),
        ("không còn hài lòng", ["không còn hài lòng"]),  # "còn" is not a contrast here
    ],
)
def test_clauses(sentence: str, clauses: list[str]) -> None:
    assert split_clauses(sentence) == clauses


def test_sentences_in_latin_and_cjk_text() -> None:
    assert split_sentences("Hi. It broke!\nRefund?还没退款。好吧") == [
        "Hi.",
        "It broke!",
        "Refund?",
        "还没退款。",
        "好吧",
    ]


def test_settings_reject_unknown_backends_and_normalise_languages() -> None:
    with pytest.raises(ValidationError, match="unknown backend"):
        SentimentSettings(backends={"*": ("bert",)})
    assert SentimentSettings(languages=("EN-us", "vi")).languages == ("en", "vi")
