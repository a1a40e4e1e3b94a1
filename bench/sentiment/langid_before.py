# ruff: noqa: RUF001  (CJK full-width punctuation is the point of these strings)
"""The language rule as shipped before issue 14 (commit 393ea53), kept only so the bench can
compare before and after on the same texts. Not used by the service."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

logger = logging.getLogger(__name__)

UNDETERMINED = "und"

# Languages py3langid confuses with a configured one on short text: (relative -> configured).
_RELATIVES: dict[str, str] = {
    "fi": "et",
    "se": "et",
    "wuu": "zh",
    "yue": "zh",
    "ja": "zh",  # Han-only text without kana is Chinese; the script rule below decides first
    "gcf": "vi",
    "gcr": "vi",
    "pcm": "en",
    "sco": "en",
}
# Letters only Vietnamese uses among Latin-script languages (horn, breve, hook-above, dot-below).
_VIETNAMESE_ONLY = re.compile(
    "[ơưăđĐƠƯĂảẩẳẻểỉỏổởủửỷạậặẹệịọộợụựỵấầẫắằẵếềễốồỗớờỡứừữẽỹĩũ]", re.IGNORECASE
)
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_SEGMENT_SPLIT = re.compile(r"(?<=[.!?。！？；;,，、])\s*|\n+")
_SHORT_TEXT_LETTERS = 40
_SURE = 0.9
# A segment's own language counts as a second language only when the identifier is this sure;
# lower and every short clause would add noise languages.
_SEGMENT_SURE = 0.75


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The language chosen for scoring, every language seen, and how it was decided."""

    language: str
    languages: tuple[str, ...]
    confidence: float
    method: str  # "hint" | "script" | "langid" | "prior" | "none"


def normalize_code(code: str) -> str:
    """`en-US` → `en`, `zh-Hans-CN` → `zh`, `EST` stays `est` (callers should send ISO 639-1)."""
    return code.strip().replace("_", "-").split("-")[0].lower()


def _letters(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch).startswith("L"))


class LanguageDetector:
    """Guess the language of a text, preferring the configured languages on short input."""

    def __init__(self, configured: Iterable[str]) -> None:
        self.configured = tuple(dict.fromkeys(normalize_code(c) for c in configured))

    @cached_property
    def _identifier(self) -> Any | None:
        try:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier
        except ImportError as error:  # pragma: no cover - py3langid is a runtime dependency
            logger.warning("py3langid unavailable (%s); using script rules only", error)
            return None
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def detect(self, text: str, hint: str | None = None) -> LanguageGuess:
        """The language to score `text` in; `hint` (the caller's word) wins when given."""
        if hint:
            code = normalize_code(hint)
            return LanguageGuess(code, (code,), 1.0, "hint")
        segments = [s for s in _SEGMENT_SPLIT.split(text) if _letters(s) >= 2]
        if not segments:
            return LanguageGuess(UNDETERMINED, (), 0.0, "none")
        whole = self._detect_one(text)
        if len(segments) == 1:
            return whole
        weights: Counter[str] = Counter()
        for segment in segments:
            guess = self._detect_one(segment)
            if guess.language != UNDETERMINED and (
                guess.confidence >= _SEGMENT_SURE or guess.language == whole.language
            ):
                weights[guess.language] += _letters(segment)
        seen = tuple(lang for lang, _ in weights.most_common())
        languages = (whole.language, *(lang for lang in seen if lang != whole.language))
        return LanguageGuess(whole.language, languages, whole.confidence, whole.method)

    def _detect_one(self, text: str) -> LanguageGuess:
        by_script = self._by_script(text)
        if by_script is not None:
            return by_script
        identifier = self._identifier
        if identifier is None:
            return LanguageGuess(UNDETERMINED, (), 0.0, "none")
        ranking: list[tuple[str, float]] = identifier.rank(text)
        best, best_p = ranking[0]
        best = _RELATIVES.get(best, best) if best not in self.configured else best
        if best in self.configured:
            return LanguageGuess(best, (best,), float(best_p), "langid")
        configured = [(lang, p) for lang, p in ranking if lang in self.configured]
        short = _letters(text) < _SHORT_TEXT_LETTERS
        if configured and short and best_p < _SURE:
            lang, p = configured[0]
            return LanguageGuess(lang, (lang,), float(p), "prior")
        return LanguageGuess(best, (best,), float(best_p), "langid")

    def _by_script(self, text: str) -> LanguageGuess | None:
        # Scripts settle what character statistics on five characters cannot.
        if _HAN.search(text) and not _KANA.search(text) and not _HANGUL.search(text):
            han = len(_HAN.findall(text))
            if han * 2 >= _letters(text) and "zh" in self.configured:
                return LanguageGuess("zh", ("zh",), 0.99, "script")
        if _VIETNAMESE_ONLY.search(text) and "vi" in self.configured:
            return LanguageGuess("vi", ("vi",), 0.99, "script")
        return None


def detector(configured: tuple[str, ...]) -> Callable[[str, Any], LanguageGuess]:
    """`detect(text, hint)` of the old rule (it had no prior: a prior is dropped)."""
    old = LanguageDetector(configured)

    def detect(text: str, hint: Any) -> LanguageGuess:
        return old.detect(text, hint if isinstance(hint, str) else None)

    return detect
