"""Language identification: hints, scripts, short texts, code-switching, unsupported languages."""

from __future__ import annotations

import pytest

from service.sentiment.language import UNDETERMINED, LanguageDetector, normalize_code

DETECTOR = LanguageDetector(["en", "vi", "zh", "et"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pole üldse halb", "et"),  # 51 % Estonian to py3langid alone
        ("Tarne oli kiire", "et"),
        ("không tệ chút nào", "vi"),
        ("一点也不差", "zh"),  # Wu/Cantonese are close seconds without the script rule
        ("not bad at all", "en"),
        ("please send invoice 4521", "en"),
        ("请把订单4521的发票发给我", "zh"),
    ],
)
def test_short_messages_in_configured_languages(text: str, expected: str) -> None:
    assert DETECTOR.detect(text).language == expected


def test_caller_hint_wins_and_is_normalised() -> None:
    guess = DETECTOR.detect("not bad at all", hint="vi-VN")
    assert (guess.language, guess.method) == ("vi", "hint")
    assert normalize_code("zh_Hans_CN") == "zh"


def test_text_without_letters_is_undetermined() -> None:
    assert DETECTOR.detect("4521 !!!").language == UNDETERMINED


def test_unconfigured_language_is_reported_not_forced() -> None:
    guess = DETECTOR.detect("Bonjour, je voudrais annuler ma commande s'il vous plaît.")
    assert guess.language == "fr"


def test_code_switched_text_reports_both_languages() -> None:
    guess = DETECTOR.detect(
        "Giao hàng quá chậm và nhân viên không trả lời. The support team never called me back."
    )
    assert guess.language == "vi"
    assert "en" in guess.languages


def test_japanese_with_kana_is_not_taken_for_chinese() -> None:
    detector = LanguageDetector(["zh", "ja"])
    assert detector.detect("この商品はとても良いです").language == "ja"
