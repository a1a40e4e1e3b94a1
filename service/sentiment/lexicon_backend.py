"""`lexicon`: the fast, dependency-free backend (project-written CX term lists with negation,
intensifiers, diminishers and contrast), for vi, zh, et and en.

The rules follow VADER's (Hutto & Gilbert 2014) in spirit: a negator up to three units before a
term flips it and damps it (x-0.75, so "not bad" is mildly positive, "not good" negative); a
modifier near a term scales it ("rất", "非常", "väga", and also trailing ones such as "at all",
"chút nào"); after a contrast word ("but", "nhưng", "但是", "aga") terms count 1.5x and before it
0.5x. The sum is squashed to [-1, 1] with x / sqrt(x^2 + alpha).

`certainty` is deliberately conservative, because the pipeline lets this backend answer alone
only when it is sure: it drops when terms disagree (unless a contrast word splits them cleanly),
when a contrast word is involved, and when few words of a long text are covered.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.sentiment.protocol import BackendUnavailableError, Polarity
from service.sentiment.terms import Match, TermMatcher, is_boundary, load_term_file, tokenize

NEGATION_WINDOW = 3
MODIFIER_WINDOW = 2
NEGATION_FACTOR = -0.75
ALPHA = 4.0
LEXICON_LANGUAGES = ("en", "vi", "zh", "et")
_POLAR = ("positive", "negative")


@dataclass(frozen=True)
class _Lexicon:
    matcher: TermMatcher


@dataclass(frozen=True)
class _Analysis:
    tokens: list[str]
    matches: list[Match]
    contrast_at: int | None
    values: list[float]
    starts: list[int]
    evidence: list[str]


def _build(data: dict[str, Any]) -> _Lexicon:
    entries: dict[str, tuple[str, float]] = {}
    for kind in ("intensifiers", "diminishers"):
        entries.update({t: ("modifier", float(v)) for t, v in data.get(kind, {}).items()})
    entries.update(dict.fromkeys(data.get("negators", []), ("negator", 0.0)))
    entries.update(dict.fromkeys(data.get("contrast", []), ("contrast", 0.0)))
    entries.update(dict.fromkeys(data.get("requests", []), ("request", 0.0)))
    # Words that contain an opinion word but carry none ("快递" courier holds "快" fast, "你好"
    # hello holds "好" good, "yêu cầu" request holds "yêu" love); longest match makes them win.
    entries.update(dict.fromkeys(data.get("neutral", []), ("blocker", 0.0)))
    for kind in _POLAR:
        entries.update({t: ("term", float(v)) for t, v in data.get(kind, {}).items()})
    return _Lexicon(TermMatcher(entries))


def _with_english(data: dict[str, Any], english: dict[str, Any], language: str) -> dict[str, Any]:
    if language == "en" or not english:
        return data
    merged: dict[str, Any] = {}
    for key in ("positive", "negative", "intensifiers", "diminishers"):
        merged[key] = {**english.get(key, {}), **data.get(key, {})}
    for key in ("negators", "contrast", "requests", "neutral"):
        merged[key] = [*english.get(key, []), *data.get(key, [])]
    return merged


def _blocked(tokens: list[str], start: int, end: int) -> bool:
    return any(is_boundary(t) for t in tokens[start:end])


class LexiconModel:
    """Rule-based scorer over the term lists in `service/sentiment/data/lexicon/`."""

    name = "lexicon"
    # One weak term ("ok", "được", "oota*") stays neutral; one clear one does not.
    neutral_band = 0.3

    def __init__(self, languages: Sequence[str] = LEXICON_LANGUAGES) -> None:
        self._lexicons: dict[str, _Lexicon] = {}
        english = load_term_file("lexicon", "en") or {}
        for language in languages:
            data = load_term_file("lexicon", language)
            if data is None:
                raise BackendUnavailableError(f"no lexicon for language {language!r}")
            # English opinion words are common in code-switched CX messages ("App cứ bị crash",
            # "客服很nice"); the language's own entries win where both have a term.
            self._lexicons[language] = _build(_with_english(data, english, language))

    def supports(self, language: str) -> bool:
        """Languages with a term list."""
        return language in self._lexicons

    def score_batch(self, texts: Sequence[str], language: str) -> list[Polarity]:
        """Score each text with the language's rules."""
        lexicon = self._lexicons[language]
        return [self._score(lexicon, text) for text in texts]

    def totals(self, texts: Sequence[str], language: str) -> list[float]:
        """The raw (unsquashed) rule sums, used as a feature by the embedding head."""
        if language not in self._lexicons:
            return [0.0] * len(texts)
        return [sum(self._analyse(self._lexicons[language], text).values) for text in texts]

    def _analyse(self, lexicon: _Lexicon, text: str) -> _Analysis:
        tokens = tokenize(text)
        matches = lexicon.matcher.scan(tokens)
        contrast_at = next((m.start for m in matches if m.kind == "contrast"), None)
        values: list[float] = []
        starts: list[int] = []
        evidence: list[str] = []
        for match in matches:
            if match.kind != "term":
                continue
            value = match.value * self._modifier(matches, match, tokens)
            negator = self._negator(matches, match, tokens)
            if negator is not None:
                value *= NEGATION_FACTOR
            if contrast_at is not None:
                value *= 1.5 if match.start > contrast_at else 0.5
            values.append(value)
            starts.append(match.start)
            evidence.append(f"{negator.term} {match.term}" if negator else match.term)
        return _Analysis(tokens, matches, contrast_at, values, starts, evidence)

    def _score(self, lexicon: _Lexicon, text: str) -> Polarity:
        return _polarity(self._analyse(lexicon, text))

    @staticmethod
    def _modifier(matches: list[Match], term: Match, tokens: list[str]) -> float:
        factor = 1.0
        for other in matches:
            if other.kind != "modifier":
                continue
            before = 0 <= term.start - other.end <= MODIFIER_WINDOW
            after = 0 <= other.start - term.end <= MODIFIER_WINDOW
            if (before and not _blocked(tokens, other.end, term.start)) or (
                after and not _blocked(tokens, term.end, other.start)
            ):
                factor *= other.value
        return factor

    @staticmethod
    def _negator(matches: list[Match], term: Match, tokens: list[str]) -> Match | None:
        for other in reversed(matches):
            near = 0 <= term.start - other.end <= NEGATION_WINDOW
            if other.kind == "negator" and near and not _blocked(tokens, other.end, term.start):
                return other
        return None


def _polarity(a: _Analysis) -> Polarity:
    words = max(1, sum(1 for t in a.tokens if not is_boundary(t)))
    if not a.values:
        # No opinion words. A short request ("please send invoice 4521") is neutral with some
        # confidence; anything else may just be vocabulary we lack.
        request = any(m.kind == "request" for m in a.matches) or "?" in a.tokens
        return Polarity(0.0, 0.6 if request and words <= 20 else 0.15, ())
    total = sum(a.values)
    score = total / math.sqrt(total * total + ALPHA)
    coverage = min(1.0, 0.35 + 4.0 * len(a.values) / words)
    certainty = abs(score) * coverage
    # Negation is not penalised: the rules read "không tệ" / "pole halb" / "一点也不差"
    # correctly where e5 embeddings mostly do not (measured on the CX set).
    if not _agree(a.values):
        # Opposite opinions split cleanly by a contrast word ("great, but delivery was late")
        # follow the contrast rule with fair confidence; any other disagreement is a guess.
        certainty *= 0.8 if _split_by_contrast(a) else 0.3
    elif a.contrast_at is not None:
        certainty *= 0.8
    return Polarity(score, min(1.0, certainty), tuple(a.evidence))


def _agree(values: list[float]) -> bool:
    return all(v > 0 for v in values) or all(v < 0 for v in values)


def _split_by_contrast(a: _Analysis) -> bool:
    if a.contrast_at is None:
        return False
    before = [v for v, at in zip(a.values, a.starts, strict=True) if at < a.contrast_at]
    after = [v for v, at in zip(a.values, a.starts, strict=True) if at > a.contrast_at]
    return bool(before and after) and _agree(before) and _agree(after)
