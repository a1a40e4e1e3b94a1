"""Staff locales as CRMs store them, reduced to the language our texts are written in.

Salesforce keeps a user's language as a POSIX-style key (`User.LanguageLocaleKey`: "zh_CN",
"en_US", "vi", "pt_BR", "zh_TW"), HubSpot and browsers as BCP 47 tags ("zh-TW", "zh-Hant-TW",
"vi-VN"), some exports add an encoding or a modifier ("et_EE.UTF-8", "sr_RS@latin"). Task
templates are keyed by the primary language subtag ("zh", "vi", "et", "en"); without this, a
Chinese Salesforce owner ("zh_CN") found no "zh_CN" template and got English.
"""

from __future__ import annotations

import re

# Deprecated ISO 639 codes some systems still send, to their current form (Java's Locale and old
# Salesforce orgs use "iw" for Hebrew, "in" for Indonesian, "ji" for Yiddish).
_LEGACY = {"iw": "he", "in": "id", "ji": "yi"}
# "C" and "POSIX" are the POSIX locales meaning "no language chosen".
_NO_LANGUAGE = {"c", "posix", "und", ""}
_PRIMARY = re.compile(r"^[a-z]{2,3}$")


def language_of_locale(locale: str | None) -> str | None:
    """The primary language of a BCP 47 tag or POSIX locale, lower case; None if it names none.

    "zh_CN", "zh-TW", "zh_Hant_TW", "zh-Hant-TW" -> "zh"; "vi_VN" -> "vi"; "et_EE.UTF-8" ->
    "et"; "en_US" -> "en"; "C", "" or "x-private" -> None. Script and region are dropped: the
    shipped task texts exist per language only (Chinese ones are in simplified characters).
    """
    if locale is None:
        return None
    # Encoding (".UTF-8") and modifier ("@latin") come after the language and region in POSIX.
    head = re.split(r"[.@]", locale.strip(), maxsplit=1)[0]
    primary = re.split(r"[-_]", head, maxsplit=1)[0].lower()
    if primary in _NO_LANGUAGE or not _PRIMARY.match(primary):
        return None
    return _LEGACY.get(primary, primary)
