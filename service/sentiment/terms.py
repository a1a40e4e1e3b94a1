# ruff: noqa: RUF001  (CJK full-width punctuation is the point of these strings)
"""Tokenising and multi-word term matching shared by the lexicon backend and the aspect tagger.

One tokenizer serves all four languages: each Han character is a unit (Chinese has no spaces and
the term lists are short phrases, so character n-grams match them without a segmenter), runs of
other letters are words (Vietnamese syllables, Estonian and English words), and clause punctuation
is kept as a unit of its own so negation cannot reach across a comma. A term may end in `*` to
match any ending of its last word, or list the endings it allows in braces: `kehv{|a|ad|asti}`
is kehv, kehva, kehvad, kehvasti. The Estonian lists use braces because a bare prefix caught
unrelated words ("täna*" for thanks caught "tänavu" this year and "tänane" today's; "kasutu*"
useless caught "kasutus" use); `python -m bench.sentiment.prefix_audit` checks every prefix and
every braced form against an Estonian dictionary.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

_TOKEN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff]"
    r"|[^\W\d_\u3400-\u4dbf\u4e00-\u9fff]+(?:['’][^\W\d_\u3400-\u4dbf\u4e00-\u9fff]+)*"
    r"|\d+|[,.;:!?，。；：！？、…]"
)
BOUNDARY_CHARS = frozenset(",.;:!?，。；：！？、…")
_PREFIX_KEY = 3
_BRACES = re.compile(r"^(.*)\{([^{}]*)\}$")


def tokenize(text: str) -> list[str]:
    """Lower-cased units of `text` (see the module docstring)."""
    normalized = unicodedata.normalize("NFC", text).lower().replace("’", "'")
    return _TOKEN.findall(normalized)


def expand(term: str) -> list[str]:
    """The terms a braced entry stands for (`hea{|d|st}` → hea, head, heast); others as-is."""
    found = _BRACES.match(term)
    if found is None:
        return [term]
    stem, endings = found.groups()
    return [stem + ending for ending in endings.split("|")]


def is_boundary(token: str) -> bool:
    """Whether a token is clause punctuation."""
    return token in BOUNDARY_CHARS


@dataclass(frozen=True, slots=True)
class Match:
    """One term found at tokens[start:end]."""

    start: int
    end: int
    term: str
    kind: str
    value: float


@dataclass(frozen=True, slots=True)
class _Entry:
    units: tuple[str, ...]
    prefix_last: bool
    term: str
    kind: str
    value: float

    def matches(self, tokens: list[str], start: int) -> bool:
        if start + len(self.units) > len(tokens):
            return False
        last = len(self.units) - 1
        for offset, unit in enumerate(self.units):
            token = tokens[start + offset]
            if offset == last and self.prefix_last:
                if not token.startswith(unit):
                    return False
            elif token != unit:
                return False
        return True


class TermMatcher:
    """Greedy longest-match of many (multi-word, optionally prefix) terms over a token list."""

    def __init__(self, entries: dict[str, tuple[str, float]]) -> None:
        """`entries` maps a term to its (kind, value)."""
        self._exact: dict[str, list[_Entry]] = defaultdict(list)
        self._prefix: dict[str, list[_Entry]] = defaultdict(list)
        expanded = {form: kv for term, kv in entries.items() for form in expand(term)}
        for term, (kind, value) in expanded.items():
            prefix_last = term.endswith("*")
            units = tuple(tokenize(term.rstrip("*")))
            if not units:
                continue
            entry = _Entry(units, prefix_last, term, kind, value)
            if prefix_last and len(units) == 1:
                self._prefix[units[0][:_PREFIX_KEY]].append(entry)
            else:
                self._exact[units[0]].append(entry)
        for bucket in (*self._exact.values(), *self._prefix.values()):
            bucket.sort(key=lambda e: (len(e.units), len(e.units[-1])), reverse=True)

    def _at(self, tokens: list[str], i: int) -> _Entry | None:
        token = tokens[i]
        candidates = self._exact.get(token, []) + self._prefix.get(token[:_PREFIX_KEY], [])
        best: _Entry | None = None
        for entry in candidates:
            if entry.matches(tokens, i) and (
                best is None
                or (len(entry.units), len(entry.units[-1])) > (len(best.units), len(best.units[-1]))
            ):
                best = entry
        return best

    def scan(self, tokens: list[str]) -> list[Match]:
        """Non-overlapping matches, left to right, longest first at each position."""
        found: list[Match] = []
        i = 0
        while i < len(tokens):
            entry = self._at(tokens, i)
            if entry is None:
                i += 1
                continue
            end = i + len(entry.units)
            found.append(Match(i, end, entry.term, entry.kind, entry.value))
            i = end
        return found


@cache
def load_term_file(folder: str, language: str) -> dict[str, Any] | None:
    """`service/sentiment/data/<folder>/<language>.json`, or None when there is no such list."""
    path = resources.files("service.sentiment").joinpath("data", folder, f"{language}.json")
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
