# ruff: noqa: RUF001  (CJK full-width punctuation is the point of these strings)
"""Splitting text into sentences (for long texts) and clauses (for aspects), in all four scripts."""

from __future__ import annotations

import re

# Sentence ends: Latin punctuation followed by space, CJK full stops (no space follows them), and
# line breaks (call notes and emails often have no punctuation at all).
_SENTENCE_END = re.compile(
    r"(?<=[.!?…])\s+|(?<=[!?])(?=[\u4e00-\u9fff])|(?<=[。！？])|\n\s*\n|\n(?=\s*[-*•])|\r?\n"
)
# Clause breaks inside a sentence: commas, semicolons, dashes, and contrast words that join two
# opinions ("Product great, delivery terrible"; "hàng đẹp nhưng giao chậm"; "质量好但是物流慢").
_CLAUSE_PUNCT = r"[,;:，；：、]|\s[-–—]\s"
_CONTRAST = (
    r"\bbut\b|\bhowever\b|\balthough\b|\bthough\b|\bwhereas\b|\bwhile\b|"
    r"\bnhưng\b|\btuy nhiên\b|\bmặc dù\b|"
    r"\baga\b|\bkuid\b|\bsamas\b|\bsiiski\b|\bkuigi\b|"
    r"但是|但|可是|不过|然而|而且|虽然|却"
)
_CLAUSE_SPLIT = re.compile(f"({_CLAUSE_PUNCT})|(?=(?:{_CONTRAST}))", re.IGNORECASE)
MIN_CLAUSE_CHARS = 2


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` in order, stripped, empty ones dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def split_clauses(sentence: str) -> list[str]:
    """Clauses of one sentence; a contrast word starts the clause it introduces."""
    parts = [p for p in _CLAUSE_SPLIT.split(sentence) if p is not None]
    clauses: list[str] = []
    for part in parts:
        piece = part.strip()
        if not piece or re.fullmatch(_CLAUSE_PUNCT, part):
            continue
        if len(piece) < MIN_CLAUSE_CHARS and clauses:
            clauses[-1] = f"{clauses[-1]} {piece}"
            continue
        clauses.append(piece)
    return clauses or [sentence.strip()]


def is_long(text: str, max_chars: int, max_sentences: int) -> bool:
    """Whether `text` is long enough to be scored sentence by sentence."""
    return len(text) > max_chars or len(split_sentences(text)) > max_sentences
