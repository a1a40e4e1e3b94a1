"""Acknowledgements ("ok", "thanks", "cảm ơn", "aitäh", "好的", "👍"): never negative.

A new user found a bare "ok" labelled negative (score -0.67) in English and Vietnamese: no rule
said anything about it, so it fell through to the statistical models, which had seen "ok" mostly
in lukewarm reviews. In a support chat an acknowledgement closes a turn; it is neutral or mildly
positive, and reading it as a complaint raises a false alarm. `is_acknowledgement` recognises a
text made only of acknowledgement words, politeness fillers, punctuation and approving emoji, so
the lexicon can answer such texts itself and the pipeline can guarantee they are never negative.

Sarcasm stays out by construction: every word must be on the lists, so "thanks for nothing" or
"ok, whatever, this is useless" are not acknowledgements.
"""

from __future__ import annotations

import re
from functools import cache

from service.sentiment.terms import TermMatcher, is_boundary, tokenize
from service.sentiment.unaccented import strip_marks

# Whole acknowledgements ("ok", "thank you", "dạ vâng", "好的", "aitäh") and the fillers that may
# pad them ("thank you so much", "vâng ạ", "好的亲", "suur aitäh teile"); a filler alone is not an
# acknowledgement. English is accepted in every language (code-switching: "ok ạ", "ok 谢谢").
_CORE: dict[str, str] = {
    "en": "ok|okay|okey|okie|k|kk|alright|all right|sure|yes|yep|yeah|got it|noted|understood|"
    "will do|sounds good|fine|thanks|thank you|thank u|thx|ty|tks|cheers|many thanks|"
    "much appreciated|no problem|no worries|bye|have a nice day|have a good day",
    "vi": "ok|oke|okê|okela|vâng|dạ|ừ|ừm|ờ|uh|được|được rồi|rồi|cảm ơn|cám ơn|biết rồi|rõ rồi|"
    "đã nhận|nhận được rồi",
    "zh": "好的|好|嗯|行|可以|谢谢|多谢|感谢|谢啦|好哒|好滴|收到|明白|知道了|了解|没问题|再见|拜拜",
    "et": "ok|okei|olgu|selge|jah|sobib|hästi|kokku lepitud|aitäh|suur aitäh|suured tänud|"
    "tänan|tänud|suur tänu|tänu|head päeva|ilusat päeva|nägemist",
}
_FILLERS: dict[str, str] = {
    "en": "so|very|much|a lot|again|you|for|the|your|help|info|reply|and|sir|madam",
    "vi": "ạ|nhé|nha|nhá|ha|shop|bạn|anh|chị|em|cô|chú|bác|thầy|ông|bà|ad|admin|nhiều|rất|"
    "và|bên|mình|xin|chân thành",
    "zh": "了|啦|哈|啊|呀|哦|您|你|亲|非常|的|客服|老板",
    "et": "väga|teile|teid|sulle|sind|veel|kord",
}
# Approving emoji (and the modifiers that may follow them: skin tones, variation selector, ZWJ).
_EMOJI = re.compile(
    "[\U0001f44d\U0001f44c\U0001f64f\U0001f642\U0001f60a\u263a\u2764\u2665\U0001f4af"
    "\u2705\u2714\U0001f91d\U0001f44f\U0001f600\U0001f603\U0001f604\U0001f601\U0001f970"
    "\U0001f3fb-\U0001f3ff\ufe0f\u200d]"
)
_MAX_UNITS = 12  # a paragraph that happens to consist of these words is not an acknowledgement
# Exclamation and question marks alone are punctuation too ("ok!", "ok?"), and so are the
# Latin/CJK marks the tokenizer keeps; anything else left over (digits, symbols) disqualifies.
_REST = re.compile(r"[\s\W_]*")


@cache
def _matcher(language: str) -> TermMatcher:
    # Unknown or undetected language: accept all four lists, the guarantee must still hold.
    languages = ("en", language) if language in _CORE else tuple(_CORE)
    entries: dict[str, tuple[str, float]] = {}
    # Vietnamese is also typed without marks ("cam on shop", "vang a").
    for lang in languages:
        words = _FILLERS[lang].split("|")
        entries.update(dict.fromkeys(words + [strip_marks(w) for w in words], ("filler", 0.0)))
    for lang in languages:
        words = _CORE[lang].split("|")
        entries.update(dict.fromkeys(words + [strip_marks(w) for w in words], ("ack", 0.0)))
    return TermMatcher(entries)


def is_acknowledgement(text: str, language: str) -> bool:
    """Whether `text` is only an acknowledgement (words, fillers, punctuation, approving emoji).

    `language` is an ISO 639-1 code or a tag such as `en-US`; other values search all lists."""
    stripped = _EMOJI.sub(" ", text)
    had_emoji = stripped != text
    tokens = tokenize(stripped)
    units = [t for t in tokens if not is_boundary(t)]
    if not units:
        # No words: an acknowledgement only if approving emoji were there and nothing else is.
        return (
            had_emoji
            and _REST.fullmatch(stripped) is not None
            and not any(ch.isalnum() for ch in stripped)
        )
    if len(units) > _MAX_UNITS or any(ch.isdigit() for ch in stripped):
        return False
    matches = _matcher(language.split("-")[0].lower()).scan(units)
    covered = sum(m.end - m.start for m in matches)
    # Every word must be on the lists, and one must be more than a filler ("you", "em", "的"
    # alone acknowledge nothing).
    return covered == len(units) and any(m.kind == "ack" for m in matches)
