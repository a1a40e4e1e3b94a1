"""Staff locales (Salesforce LanguageLocaleKey, BCP 47 tags) reduced to our task languages."""

from __future__ import annotations

import pytest

from service.domain import Owner
from service.domain.locales import language_of_locale


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("zh_CN", "zh"),
        ("zh-TW", "zh"),
        ("zh_Hant_TW", "zh"),
        ("zh-Hant-TW", "zh"),
        ("vi_VN", "vi"),
        ("vi", "vi"),
        ("et_EE", "et"),
        ("en_US", "en"),
        ("en-GB", "en"),
        ("EN_us", "en"),
        ("et_EE.UTF-8", "et"),
        ("sr_RS@latin", "sr"),
        ("iw", "he"),  # Salesforce's and Java's legacy code for Hebrew
        (" de_DE ", "de"),
        ("C", None),
        ("POSIX", None),
        ("", None),
        ("x-private", None),
        (None, None),
    ],
)
def test_locale_to_language(locale: str | None, language: str | None) -> None:
    assert language_of_locale(locale) == language


def test_owner_language_is_normalised_on_the_way_in() -> None:
    assert Owner(id="u1", language="zh_CN").language == "zh"
    assert Owner.model_validate({"id": "u2", "language": "zh-Hant-TW"}).language == "zh"
    assert Owner(id="u3", language="C").language is None
