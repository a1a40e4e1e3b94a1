"""The sentiment pipeline: language → backend chain → fast path → long texts → aspects → result.

Scoring works on *units*: a short text is one unit, a long one is split into sentences, and each
aspect clause of a multi-clause text is another unit. Every unit goes through the same route:
the cache (keyed by a hash of text, language and model version), then the fast stages (the
lexicon, then the n-gram model), each answering alone only when it is sure, then the accurate
backend for the rest, in one batch per language.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from service.metrics import SENTIMENT_TEXTS, SENTIMENT_UNITS
from service.sentiment.acknowledgements import is_acknowledgement
from service.sentiment.aspects import AspectMention, find_mentions
from service.sentiment.cache import ResultCache, text_key
from service.sentiment.fast_gates import FastGates, FastPathFileError, load_gates
from service.sentiment.language import UNDETERMINED, Hint, LanguageDetector, LanguageGuess
from service.sentiment.protocol import Polarity, SentimentModel
from service.sentiment.registry import build_backends
from service.sentiment.results import (
    Aspect,
    AspectSentiment,
    Label,
    SentenceScore,
    SentimentResult,
)
from service.sentiment.segments import is_long, split_clauses, split_sentences
from service.sentiment.settings import SentimentSettings
from service.sentiment.signal import TextSignal
from service.sentiment.terms import is_boundary, tokenize

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Scored:
    """One unit's polarity, the backend that produced it, and that backend's neutral band."""

    polarity: Polarity
    backend: str
    band: float

    @property
    def label(self) -> Label:
        """The three-way label of this unit."""
        if self.polarity.neutral:
            return Label.NEUTRAL
        return label_for(self.polarity.score, self.band)


# A mean over sentences is pulled toward zero by the sentences without opinion, so a long text's
# band is narrower than a backend's. A choice, not a calibration: no labelled long CX texts yet.
LONG_TEXT_BAND = 0.15
# Negative sentences count double: in support triage one complaint outweighs one compliment
# (and emails wrap complaints in pleasantries: "Hello team", "Regards, Anna").
NEGATIVE_WEIGHT = 2.0
SHORT_SENTENCE_WORDS = 4
# The lexicon's own "sure" level (its certainty drops when terms disagree or a contrast word is
# involved); used only for aspect clauses in languages without a calibrated fast path.
CLAUSE_TERM_CERTAINTY = 0.3


def _words(text: str) -> int:
    """Words in `text`; Han characters count singly."""
    return sum(1 for t in tokenize(text) if not is_boundary(t))


def _sentence_weight(text: str, scored: Scored) -> float:
    """sqrt(length), so one long sentence does not drown the others; opinion-free sentences and
    greetings or sign-offs (under four words) a quarter; negative sentences double."""
    weight = math.sqrt(len(text))
    if scored.label is Label.NEUTRAL or _words(text) < SHORT_SENTENCE_WORDS:
        weight *= 0.25
    if scored.label is Label.NEGATIVE:
        weight *= NEGATIVE_WEIGHT
    return weight


def label_for(score: float, band: float) -> Label:
    """Neutral inside the band, otherwise the sign."""
    if abs(score) < band:
        return Label.NEUTRAL
    return Label.POSITIVE if score > 0 else Label.NEGATIVE


def _language_confidence(guess: LanguageGuess) -> float:
    """The detector's confidence, bounded for the result."""
    return round(min(1.0, max(0.0, guess.confidence)), 4)


def _confidence(scored: Scored, label: Label) -> float:
    certainty = scored.polarity.certainty
    if label is Label.NEUTRAL:
        if scored.polarity.neutral:  # the opinion head's own verdict: certainty is P(no opinion)
            return round(min(1.0, scored.polarity.certainty), 4)
        inside = 1.0 - abs(scored.polarity.score) / scored.band if scored.band else 0.0
        return round(min(1.0, 0.5 + 0.5 * inside), 4)
    return round(min(1.0, 0.5 + 0.5 * certainty), 4)


# (language, unit) → its score and whether it came from the cache.
_Scores = dict[tuple[str, str], tuple[Scored, bool]]


@dataclass(frozen=True, slots=True)
class _Outline:
    """What planning one text found, without the text: its language guess and its aspect
    mentions as (sentence index, clause index, aspect, terms). Cached by text hash, so a text
    seen again skips language detection and the aspect scan, and no message text is held."""

    guess: LanguageGuess
    mentions: tuple[tuple[int, int, Aspect, tuple[str, ...]], ...]

    @classmethod
    def of(cls, text: str, guess: LanguageGuess, mentions: list[AspectMention]) -> _Outline:
        where: dict[tuple[str, str], tuple[int, int]] = {}
        for si, sentence in enumerate(split_sentences(text)):
            for ci, clause in enumerate(split_clauses(sentence)):
                where.setdefault((sentence, clause), (si, ci))
        return cls(
            guess,
            tuple((*where[(m.sentence, m.clause)], m.aspect, m.terms) for m in mentions),
        )

    def mentions_in(self, text: str) -> list[AspectMention]:
        """The mentions again, their clauses cut from `text` as `find_mentions` cut them."""
        if not self.mentions:
            return []
        sentences = split_sentences(text)
        clauses: dict[int, list[str]] = {}
        found = []
        for si, ci, aspect, terms in self.mentions:
            if si not in clauses:
                clauses[si] = split_clauses(sentences[si])
            found.append(AspectMention(aspect, clauses[si][ci], sentences[si], terms))
        return found


@dataclass
class _Plan:
    text: str
    guess: LanguageGuess
    units: list[str]
    long: bool
    mentions: list[AspectMention]
    whole: str | None = None  # a long text short enough to also be scored in one piece

    @functools.cached_property
    def clause_units(self) -> bool:
        """Whether its aspect clauses are scored on their own: only when the text holds more
        than one clause (a one-clause text's aspect takes the text's own score)."""
        return len(self.units) > 1 or len(split_clauses(self.units[0])) > 1


def _fast_gates(settings: SentimentSettings) -> FastGates:
    """The configured gates, else the shipped ones; none at all (every text to the accurate
    backend) when the shipped file cannot be read, which is logged."""
    if settings.fast_gates is not None:
        return FastGates(settings.fast_gates)
    if not settings.fast_path:
        return FastGates({})
    try:
        return load_gates()
    except FastPathFileError as error:
        logger.warning("fast path off: %s", error)
        return FastGates({})


class SentimentAnalyzer:
    """Score texts in any configured language with the configured backends; offline, cached."""

    def __init__(
        self,
        settings: SentimentSettings | None = None,
        backends: Mapping[str, SentimentModel] | None = None,
    ) -> None:
        self.settings = settings or SentimentSettings()
        if backends is None:
            loaded, self.skipped = build_backends(self.settings)
        else:
            loaded, self.skipped = dict(backends), {}
        self.backends: dict[str, SentimentModel] = loaded
        self.detector = LanguageDetector(self.settings.languages)
        self.gates = _fast_gates(self.settings)
        self.cache: ResultCache[Scored] = ResultCache(self.settings.cache_size)
        self.outlines: ResultCache[_Outline] = ResultCache(self.settings.cache_size)
        self.signals: ResultCache[TextSignal] = ResultCache(self.settings.cache_size)
        self.version = hashlib.sha256(
            repr((sorted(self.backends), self.settings.model_dump())).encode()
        ).hexdigest()[:16]
        # Statistics for the harness: how many units each route answered.
        self.routed: dict[str, int] = defaultdict(int)

    def primary(self, language: str) -> SentimentModel | None:
        """The first loaded backend of the language's chain that supports it."""
        if language not in self.settings.languages:
            return None
        for name in self.settings.chain(language):
            backend = self.backends.get(name)
            if backend is not None and backend.supports(language):
                return backend
        return None

    def _fast(self, language: str, primary: SentimentModel) -> list[tuple[SentimentModel, float]]:
        """The fast stages for `language`, each with the certainty at which it may answer."""
        s = self.settings
        if not s.fast_path:
            return []
        names = [s.fast_backend, *([s.fast_second] if s.fast_second else [])]
        if any(self.backends.get(name) is primary for name in names):
            return []  # the fallback is itself a fast stage: nothing slower to spare
        out: list[tuple[SentimentModel, float]] = []
        for name in names:
            fast = self.backends.get(name)
            gate = self.gates.gate(name, language)
            if fast is not None and gate is not None and fast.supports(language):
                out.append((fast, gate))
        return out

    def analyze(self, text: str, language: str | None = None) -> SentimentResult:
        """Score one text; `language` is the caller's hint and wins over detection."""
        return self.analyze_batch([(text, language)])[0]

    def analyze_batch(self, items: Sequence[tuple[str, Hint]]) -> list[SentimentResult]:
        """Score many (text, language hint) pairs; units are batched per language. A hint string
        wins over detection; a `Prior` (the customer's language) decides only unclear texts.

        A text's result never depends on the other texts of the batch: each looks up only the
        units its own plan asked for, and aspect clauses (scored by their own rule, below) are
        kept apart from whole texts and sentences even when the strings are equal."""
        plans = [self._plan(text, hint) for text, hint in items]
        per_language: dict[str, int] = defaultdict(int)
        for plan in plans:
            per_language[plan.guess.language] += 1
        for language, count in per_language.items():
            SENTIMENT_TEXTS.labels(language).inc(count)
        strict: dict[str, set[str]] = defaultdict(set)  # decide a label: gates apply
        clauses: dict[str, set[str]] = defaultdict(set)  # set only an aspect's polarity
        for plan in plans:
            language = plan.guess.language
            if self.primary(language) is None:
                continue
            strict[language].update(plan.units)
            if plan.whole:
                strict[language].add(plan.whole)
            if plan.clause_units:
                clauses[language].update(m.clause for m in plan.mentions)
        scores: _Scores = {}
        clause_scores: _Scores = {}
        lenient = self.settings.fast_clauses
        for language, units in strict.items():
            for unit, value in self._score_units(sorted(units), language).items():
                scores[(language, unit)] = value
            if clauses[language]:
                found = self._score_units(sorted(clauses[language]), language, lenient=lenient)
                for unit, value in found.items():
                    clause_scores[(language, unit)] = value
        return [self._result(plan, scores, clause_scores) for plan in plans]

    def _signal_key(self, text: str, hint: Hint) -> str:
        return text_key(text, f"signal:{hint}", self.version)

    def knows_signals(self, items: Sequence[tuple[str, Hint]]) -> bool:
        """Whether `signals_batch(items)` would be answered from memory alone (no model call)."""
        return all(self.signals.get(self._signal_key(t, hint)) is not None for t, hint in items)

    def signals_batch(self, items: Sequence[tuple[str, Hint]]) -> list[TextSignal]:
        """What scoring needs of each (text, language hint): `TextSignal.of(analyze(...))`.

        Remembered by text hash, so rescoring a customer whose messages were read before costs
        a hash and a look-up per message instead of planning, splitting and assembling a full
        result (about 0.2 ms a text). Results never depend on the batch (see `analyze_batch`),
        so a remembered answer equals a fresh one."""
        keys = [self._signal_key(text, hint) for text, hint in items]
        found = {n: hit for n, key in enumerate(keys) if (hit := self.signals.get(key)) is not None}
        todo = [n for n in range(len(items)) if n not in found]
        if todo:
            results = self.analyze_batch([items[n] for n in todo])
            for n, result in zip(todo, results, strict=True):
                found[n] = TextSignal.of(result)
                self.signals.put(keys[n], found[n])
        return [found[n] for n in range(len(items))]

    def _plan(self, text: str, hint: Hint) -> _Plan:
        key = text_key(text, f"outline:{hint}", self.version)
        outline = self.outlines.get(key)
        if outline is None:
            guess = self.detector.detect(text, hint)
            mentions = find_mentions(text, guess.languages or (guess.language,))
            self.outlines.put(key, _Outline.of(text, guess, mentions))
        else:
            guess, mentions = outline.guess, outline.mentions_in(text)
        s = self.settings
        long = is_long(text, s.long_text_chars, s.long_text_sentences)
        units = split_sentences(text)[: s.max_sentences] if long else [text.strip()]
        whole = text.strip() if long and len(text) <= s.whole_text_chars else None
        return _Plan(text, guess, units or [text.strip()], long, mentions, whole)

    def _score_units(
        self, units: list[str], language: str, *, lenient: bool = False
    ) -> dict[str, tuple[Scored, bool]]:
        """Cache, then the fast stages, then the primary backend.

        `lenient` units (aspect clauses, which decide no message label) are answered by the
        last fast stage whatever its certainty, and cached apart from the same string scored
        strictly. On the CX dev split they were 26 of the 67 units that reached e5-head, and
        answering them here left aspect polarity as good or better (zh 0.990 → 0.995)."""
        primary = self.primary(language)
        assert primary is not None  # callers only pass languages with a primary backend
        out: dict[str, tuple[Scored, bool]] = {}
        todo: list[str] = []
        tag = f"{language}:clause" if lenient else language
        keys = {u: text_key(u, tag, self.version) for u in units}
        for unit in units:
            hit = self.cache.get(keys[unit])
            if hit is not None:
                out[unit] = (hit, True)
                self.routed["cache"] += 1
            else:
                todo.append(unit)
        if len(todo) < len(units):
            SENTIMENT_UNITS.labels("cache", language).inc(len(units) - len(todo))
        stages = self._fast(language, primary)
        for n, (fast, threshold) in enumerate(stages, start=1):
            if not todo:
                break
            remaining: list[str] = []
            for unit, polarity in zip(todo, fast.score_batch(todo, language), strict=True):
                if polarity.certainty >= threshold or (lenient and n == len(stages)):
                    out[unit] = (Scored(polarity, fast.name, fast.neutral_band), False)
                    self.routed[fast.name] += 1
                else:
                    remaining.append(unit)
            if len(remaining) < len(todo):
                SENTIMENT_UNITS.labels(fast.name, language).inc(len(todo) - len(remaining))
            todo = remaining
        if todo and lenient and not stages and self.settings.fast_path:
            todo = self._clauses_by_terms(todo, language, primary, out)
        if todo:
            for unit, polarity in zip(todo, primary.score_batch(todo, language), strict=True):
                out[unit] = (Scored(polarity, primary.name, primary.neutral_band), False)
                self.routed[primary.name] += 1
            SENTIMENT_UNITS.labels(primary.name, language).inc(len(todo))
        for unit, (scored, was_cached) in out.items():
            if not was_cached:
                self.cache.put(keys[unit], scored)
        return out

    def _clauses_by_terms(
        self,
        todo: list[str],
        language: str,
        primary: SentimentModel,
        out: dict[str, tuple[Scored, bool]],
    ) -> list[str]:
        """In a language with no calibrated fast path (Estonian), an aspect clause that holds an
        opinion term of the term lists takes the lexicon's reading; the rest go on to the
        accurate backend. Aspects are found by those same term lists, and a clause is a
        fragment: cross-lingual e5 read "tarne oli kohutavalt aeglane" (delivery was terribly
        slow) as opinion-free, so the aspect took the praise of the clause before it. Message
        labels never come from here."""
        lexicon = self.backends.get(self.settings.fast_backend)
        if lexicon is None or lexicon is primary or not lexicon.supports(language):
            return todo
        remaining: list[str] = []
        for unit, polarity in zip(todo, lexicon.score_batch(todo, language), strict=True):
            if polarity.evidence and polarity.certainty >= CLAUSE_TERM_CERTAINTY:
                out[unit] = (Scored(polarity, lexicon.name, lexicon.neutral_band), False)
                self.routed[lexicon.name] += 1
            else:
                remaining.append(unit)
        return remaining

    def _result(self, plan: _Plan, scores: _Scores, clause_scores: _Scores) -> SentimentResult:
        guess = plan.guess
        if self.primary(guess.language) is None:
            reason = (
                "language could not be determined"
                if guess.language == UNDETERMINED
                else f"no sentiment backend for language {guess.language!r}"
            )
            return SentimentResult(
                label=Label.UNKNOWN,
                score=0.0,
                confidence=0.0,
                language=guess.language,
                languages=guess.languages,
                language_confidence=_language_confidence(guess),
                backend="none",
                reason=reason,
            )
        units = [scores[(guess.language, u)] for u in plan.units]
        if plan.long:
            return self._long_result(plan, units, scores, clause_scores)
        scored, cached = units[0]
        if scored.polarity.score < 0 and is_acknowledgement(plan.text, guess.language):
            # "ok", "aitäh", "好的": never a complaint, whichever route scored it.
            scored = Scored(Polarity(0.0, 1.0, scored.polarity.evidence), scored.backend, 0.1)
        label = scored.label
        return SentimentResult(
            label=label,
            score=round(scored.polarity.score, 4),
            confidence=_confidence(scored, label),
            language=guess.language,
            languages=guess.languages,
            language_confidence=_language_confidence(guess),
            backend=scored.backend,
            evidence=scored.polarity.evidence or (plan.units[0],),
            aspects=self._aspects(plan, scored, scores, clause_scores),
            cached=cached,
        )

    def _long_result(
        self,
        plan: _Plan,
        units: list[tuple[Scored, bool]],
        scores: _Scores,
        clause_scores: _Scores,
    ) -> SentimentResult:
        weights = [_sentence_weight(u, s) for u, (s, _) in zip(plan.units, units, strict=True)]
        total = sum(w * s.polarity.score for w, (s, _) in zip(weights, units, strict=True))
        score = max(-1.0, min(1.0, total / sum(weights)))
        if plan.whole:
            # Within the model's window the text read as a whole is the better judge of the
            # overall tone (held-out reviews: +2-3 points over sentence averaging); sentences
            # still decide the breakdown and the most negative one.
            score = 0.5 * score + 0.5 * scores[(plan.guess.language, plan.whole)][0].polarity.score
        sentences = tuple(
            SentenceScore(index=i, text=text, label=s.label, score=round(s.polarity.score, 4))
            for i, (text, (s, _)) in enumerate(zip(plan.units, units, strict=True))
        )
        polar = any(s.label is not Label.NEUTRAL for s, _ in units)
        certainty = sum(w * s.polarity.certainty for w, (s, _) in zip(weights, units, strict=True))
        band = LONG_TEXT_BAND if polar else 1.0
        merged = Scored(Polarity(score, certainty / sum(weights)), units[0][0].backend, band)
        label = merged.label
        worst = min(sentences, key=lambda s: s.score)
        backends = sorted({s.backend for s, _ in units})
        return SentimentResult(
            label=label,
            score=round(score, 4),
            confidence=_confidence(merged, label),
            language=plan.guess.language,
            languages=plan.guess.languages,
            language_confidence=_language_confidence(plan.guess),
            backend="+".join(backends),
            evidence=tuple(s.text for s in sorted(sentences, key=lambda s: abs(s.score))[-3:]),
            aspects=self._aspects(plan, merged, scores, clause_scores),
            sentences=sentences,
            # Named whenever there is a complaint to read first: a negative sentence, or a
            # negative text whose lowest sentence is below zero.
            most_negative_sentence=worst.text
            if worst.label is Label.NEGATIVE or (label is Label.NEGATIVE and worst.score < 0)
            else None,
            cached=all(c for _, c in units),
        )

    def _aspects(
        self,
        plan: _Plan,
        overall: Scored,
        scores: _Scores,
        clause_scores: _Scores,
    ) -> tuple[AspectSentiment, ...]:
        language = plan.guess.language
        chosen: dict[str, AspectSentiment] = {}
        for mention in plan.mentions:
            # Only what this text's plan scored: a clause when it has several, a sentence when
            # it was read sentence by sentence; otherwise the text's own score.
            clause = clause_scores.get((language, mention.clause)) if plan.clause_units else None
            sentence = scores.get((language, mention.sentence)) if plan.long else None
            scored = clause[0] if clause else overall
            # An opinion-free clause ("about my invoice") takes its sentence's polarity: one
            # that is neutral, or a bare topic phrase with no opinion word (e5 reads a tone
            # into three-word fragments that is not there).
            topic_only = (
                not scored.polarity.evidence and _words(mention.clause) < SHORT_SENTENCE_WORDS
            )
            if scored.label is Label.NEUTRAL or topic_only:
                scored = sentence[0] if sentence else overall
            item = AspectSentiment(
                aspect=mention.aspect,
                label=scored.label,
                score=round(scored.polarity.score, 4),
                evidence=mention.clause,
                terms=mention.terms,
            )
            previous = chosen.get(mention.aspect)
            # One entry per aspect: the most negative mention, since that is what needs action.
            if previous is None or item.score < previous.score:
                chosen[mention.aspect] = item
        return tuple(chosen.values())
