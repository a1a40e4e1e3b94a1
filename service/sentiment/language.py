# ruff: noqa: RUF001  (CJK full-width punctuation is the point of these strings)
"""Language identification: the caller's hint wins, then script rules, then py3langid with a
margin that grows as the text gets shorter.

A language outside the configured ones must come out as itself (the pipeline then says
`unknown`), so nothing is folded into a configured language: Finnish stays Finnish next to
Estonian, Japanese with kana stays Japanese next to Chinese. Short texts are where identifiers
fail ("Salvesta ja jätka muutmist" is Finnish to py3langid), so an unconfigured winner is only
believed when it beats the configured candidate by a margin in log-likelihood (`Margins`); when
it does not, the text cannot be told apart and the candidate is taken with a low confidence.
The candidate is the caller's *prior* when one is given (the customer's language from the CRM:
weaker than a hint, it decides only what the text leaves open), else the best configured
language. Code-switched text ("Sản phẩm ok nhưng delivery quá chậm") is split into segments and
every language found is reported; the main language is the whole text's.
Measured on real text by `python -m bench.sentiment.langid` (docs/sentiment.md).
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

logger = logging.getLogger(__name__)

UNDETERMINED = "und"


@dataclass(frozen=True, slots=True)
class Prior:
    """The language a text is probably in (e.g. the customer's language in the CRM): it decides
    only when the text itself cannot, unlike a plain hint string, which always wins."""

    language: str

    def __str__(self) -> str:
        # Cache keys are built with f-strings: a prior must never share a key with a hint.
        return f"prior:{self.language}"


# What callers may pass with a text: a hint that wins, a prior that may lose, or nothing.
Hint = str | Prior | None


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The language chosen for scoring, every language seen, and how it was decided."""

    language: str
    languages: tuple[str, ...]
    confidence: float
    # "hint" | "script" | "langid" | "prior" (the prior decided an unclear text) | "nearest"
    # (an unclear text without a prior: the best configured language, at low confidence) | "none"
    method: str


@dataclass(frozen=True, slots=True)
class Margins:
    """How much more likely (natural-log likelihood) the identifier's winner must be than the
    candidate before the winner replaces it. Naive-Bayes scores on a few letters are overconfident
    (a two-word Estonian UI string can be 10 nats more Finnish), so texts under `short_letters`
    letters need `short`, longer ones `long`. Chosen on the tuning split of the bench."""

    short_letters: int = 15
    short: float = 12.0
    long: float = 4.0

    def needed(self, letters: int) -> float:
        """The margin a text of `letters` letters needs."""
        return self.short if letters < self.short_letters else self.long


MARGINS = Margins()


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the text itself says: its letters, a language its script settles (or None), and the
    identifier's log-likelihood per language, best first (empty when the script settled it)."""

    letters: int
    script: str | None
    ranking: tuple[tuple[str, float], ...] = ()


# Letters only Vietnamese uses among Latin-script languages: the horn (ơ, ư), the hook above, and
# vowels carrying both a circumflex/breve/horn and a tone. Not ă (Romanian), đ (Croatian, Sami),
# plain dot-below (Yoruba ọ, ẹ) or tilde vowels (Guarani ũ, ĩ): other languages write those.
_VIETNAMESE_ONLY = re.compile("[ơưảẩẳẻểỉỏổởủửỷậặệộợựấầẫắằẵếềễốồỗớờỡứừữ]", re.IGNORECASE)
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
# Languages written with Han characters alone, for which a Han-only text follows the prior.
_HAN_WRITTEN = frozenset({"zh", "ja", "yue", "wuu", "gan", "hak", "nan", "lzh"})
# Addresses are not language: "http://blog.zol.com.cn/..." reads as Zulu to the identifier.
_NOT_LANGUAGE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+")
_SEGMENT_SPLIT = re.compile(r"(?<=[.!?。！？；;,，、])\s*|\n+")
# A segment's own language counts as a second language only when the identifier is this sure;
# lower and every short clause would add noise languages.
_SEGMENT_SURE = 0.75


def normalize_code(code: str) -> str:
    """`en-US` → `en`, `zh-Hans-CN` → `zh`, `EST` stays `est` (callers should send ISO 639-1)."""
    return code.strip().replace("_", "-").split("-")[0].lower()


def _letters(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch).startswith("L"))


@cache
def _identifier() -> Any | None:
    """py3langid's model, loaded once per process and shared by every detector."""
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
    except ImportError as error:  # pragma: no cover - py3langid is a runtime dependency
        logger.warning("py3langid unavailable (%s); using script rules only", error)
        return None
    # Raw log-likelihoods, not probabilities: margins are differences of these.
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)


def _script(text: str, letters: int) -> str | None:
    """The language a script settles, which character statistics on five letters cannot."""
    if letters == 0:
        return None
    han = len(_HAN.findall(text))
    kana = len(_KANA.findall(text))
    if kana and (han + kana) * 2 >= letters:
        return "ja"  # kana is written only in Japanese
    if len(_HANGUL.findall(text)) * 2 >= letters:
        return "ko"
    if han * 2 >= letters and not kana:
        return "zh"
    if _VIETNAMESE_ONLY.search(text):
        return "vi"
    return None


def evidence(text: str) -> Evidence:
    """The script rule's answer, or else the identifier's ranking of `text`."""
    text = _NOT_LANGUAGE.sub(" ", text)
    letters = _letters(text)
    script = _script(text, letters)
    identifier = _identifier()
    if script is not None or identifier is None or letters == 0:
        return Evidence(letters, script)
    ranking = identifier.rank(text)
    return Evidence(letters, None, tuple((lang, float(score)) for lang, score in ranking))


def _odds(score: float, other: float) -> float:
    """P(first) between two languages whose log-likelihoods these are."""
    return 1.0 / (1.0 + math.exp(max(-50.0, min(50.0, other - score))))


def decide(
    found: Evidence,
    configured: tuple[str, ...],
    prior: str | None = None,
    margins: Margins = MARGINS,
) -> LanguageGuess:
    """The language of a text from its evidence (a pure function: the bench tunes `margins`)."""
    if found.script is not None:
        lang = found.script
        if lang == "zh" and prior in _HAN_WRITTEN:
            # Han-only text is Chinese unless the customer writes Japanese or Cantonese.
            return LanguageGuess(prior, (prior,), 0.5, "prior")
        return LanguageGuess(lang, (lang,), 0.99, "script")
    if not found.ranking or found.ranking[0][1] == found.ranking[-1][1]:
        # No evidence: no letters, or every language scores alike (py3langid's scores saturate
        # on some short words: "German", "e.l"). The prior, else the first configured language.
        if prior:
            return LanguageGuess(prior, (prior,), 0.0, "prior")
        if found.letters and configured:
            return LanguageGuess(configured[0], (configured[0],), 0.0, "nearest")
        return LanguageGuess(UNDETERMINED, (), 0.0, "none")
    scores = dict(found.ranking)
    best, best_score = found.ranking[0]
    total = sum(math.exp(s - best_score) for _, s in found.ranking)
    sure = 1.0 / total  # the winner's probability over all the identifier's languages
    mine = [(lang, s) for lang, s in found.ranking if lang in configured]
    if prior is not None:
        candidate = prior
        candidate_score = scores.get(prior, mine[0][1] if mine else best_score)
    elif mine:
        candidate, candidate_score = mine[0]
    else:
        return LanguageGuess(best, (best,), sure, "langid")
    if best == candidate:
        return LanguageGuess(best, (best,), sure, "langid")
    if best_score - candidate_score >= margins.needed(found.letters):
        return LanguageGuess(best, (best,), sure, "langid")
    # Too close to tell: the candidate, with its odds against the winner as the confidence
    # (at most one half, since the winner did score higher).
    method = "prior" if prior is not None else "nearest"
    confidence = round(_odds(candidate_score, best_score), 4)
    return LanguageGuess(candidate, (candidate,), confidence, method)


class LanguageDetector:
    """Guess the language of a text; a language outside `configured` is reported as itself."""

    def __init__(self, configured: Iterable[str], margins: Margins = MARGINS) -> None:
        self.configured = tuple(dict.fromkeys(normalize_code(c) for c in configured))
        self.margins = margins

    def detect(self, text: str, hint: Hint = None, prior: str | None = None) -> LanguageGuess:
        """The language to score `text` in. A `hint` string (the caller's word) wins; a `Prior`
        passed as the hint, or `prior`, decides only when the text is unclear."""
        if isinstance(hint, Prior):
            prior = hint.language
            hint = None
        if hint:
            code = normalize_code(hint)
            return LanguageGuess(code, (code,), 1.0, "hint")
        prior = normalize_code(prior) if prior else None
        if _letters(_NOT_LANGUAGE.sub(" ", text)) < 2:
            return LanguageGuess(UNDETERMINED, (), 0.0, "none")
        whole = self._detect_one(text, prior)
        # Abbreviations ("e.l", "p.l") are one text whose segments are each too short.
        segments = [s for s in _SEGMENT_SPLIT.split(text) if _letters(s) >= 2]
        if len(segments) <= 1:
            return whole
        weights: Counter[str] = Counter()
        for segment in segments:
            guess = self._detect_one(segment, None)
            if guess.language != UNDETERMINED and (
                guess.confidence >= _SEGMENT_SURE or guess.language == whole.language
            ):
                weights[guess.language] += _letters(segment)
        seen = tuple(lang for lang, _ in weights.most_common())
        languages = (whole.language, *(lang for lang in seen if lang != whole.language))
        return LanguageGuess(whole.language, languages, whole.confidence, whole.method)

    def _detect_one(self, text: str, prior: str | None) -> LanguageGuess:
        return decide(evidence(text), self.configured, prior, self.margins)
