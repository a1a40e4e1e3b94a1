"""Aspect tagging: which CX topics a message talks about, each with the polarity of its own clause.

Term lists per language live in `service/sentiment/data/aspects/<lang>.json` (written by the
project). A message is cut into clauses at punctuation and contrast words, so in "Product great,
delivery terrible" the quality terms sit in a positive clause and the delivery terms in a negative
one. Clause polarity comes from the pipeline's own fast/accurate routing
(`SentimentAnalyzer._aspects`), so aspects get the same quality as the message label. A clause
that names an aspect but carries no opinion of its own ("about my invoice") takes the polarity
of its sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from service.sentiment.results import Aspect
from service.sentiment.segments import split_clauses, split_sentences
from service.sentiment.terms import TermMatcher, load_term_file, tokenize

ASPECT_LANGUAGES = ("en", "vi", "zh", "et")


@dataclass(frozen=True, slots=True)
class AspectMention:
    """An aspect found in a clause, before polarity is known."""

    aspect: Aspect
    clause: str
    sentence: str
    terms: tuple[str, ...]


@cache
def _matcher(language: str) -> TermMatcher | None:
    data = load_term_file("aspects", language)
    if data is None:
        return None
    entries: dict[str, tuple[str, float]] = {}
    for aspect, terms in data.items():
        Aspect(aspect)  # a typo in a data file fails loudly here, not silently later
        entries.update(dict.fromkeys(terms, (aspect, 1.0)))
    return TermMatcher(entries)


def find_mentions(text: str, languages: Iterable[str]) -> list[AspectMention]:
    """Every (aspect, clause) pair in `text`, using the term lists of all `languages`.

    Several languages are searched because code-switched messages are common ("giao hàng chậm
    quá, refund đâu?"); English is always searched for the same reason.
    """
    matchers = [m for lang in dict.fromkeys([*languages, "en"]) if (m := _matcher(lang))]
    mentions: list[AspectMention] = []
    for sentence in split_sentences(text):
        for clause in split_clauses(sentence):
            tokens = tokenize(clause)
            found: dict[Aspect, list[str]] = {}
            for matcher in matchers:
                for match in matcher.scan(tokens):
                    found.setdefault(Aspect(match.kind), []).append(match.term.rstrip("*"))
            for aspect, terms in found.items():
                mentions.append(
                    AspectMention(aspect, clause, sentence, tuple(dict.fromkeys(terms)))
                )
    return mentions


def supported(language: str) -> bool:
    """Whether there is an aspect term list for `language`."""
    return _matcher(language) is not None
