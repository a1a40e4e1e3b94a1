# ruff: noqa: RUF001  (CJK full-width punctuation is the point of these strings)
"""Rebuild `data/cx_dev.jsonl` (the CX dev split) from the phrase bank `data/cx_phrases.json`.

`python -m bench.sentiment.build_cx_set`. Every clause, request, negation and code-switched
message in the bank was written by the project; this script only joins clauses into the message
shapes CX teams see (single complaints or praise, two points of the same polarity, mixed "good
but bad" messages both ways round, call-note phrasing, greetings before neutral requests), with
the gold label and per-aspect gold polarity of each. Mixed messages are labelled `mixed`: they are
scored on their aspects, not on an overall label.

This is the dev half of the CX set: the term lists and thresholds were tuned on it, so its numbers
are optimistic. The held-out half, `data/cx_test.jsonl`, is written message by message (not
composed) and is never used for tuning.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
GREETING = {"en": "Hello,", "vi": "Chào shop,", "zh": "你好，", "et": "Tere,"}
CALL_NOTE = {
    "en": "Customer says",
    "vi": "Khách hàng phản ánh rằng",
    "zh": "客户反映",
    "et": "Klient ütleb, et",
}
STOP = {"en": ".", "vi": ".", "zh": "。", "et": "."}


def _sentence(lang: str, clause: str) -> str:
    return clause[:1].upper() + clause[1:] + STOP[lang]


def _join(lang: str, first: str, word: str, second: str) -> str:
    if lang == "zh":
        return f"{first}{word}{second}{STOP[lang]}"
    return _sentence(lang, f"{first}, {word} {second}")


PROVENANCE = (
    "composed by bench/sentiment/build_cx_set.py from the project-written phrase bank "
    "cx_phrases.json; dev split: term lists and thresholds were tuned on it"
)


def _row(lang: str, label: str, kind: str, text: str, aspects: dict[str, str]) -> dict[str, Any]:
    return {
        "lang": lang,
        "label": label,
        "kind": kind,
        "text": text,
        "aspects": aspects,
        "split": "dev",
        "provenance": PROVENANCE,
    }


def build(bank: dict[str, Any]) -> list[dict[str, Any]]:
    """Every composed message, in a fixed order."""
    rows: list[dict[str, Any]] = []
    for lang, b in bank.items():
        pos, neg = b["positive"], b["negative"]
        for label, items in (("positive", pos), ("negative", neg)):
            for clause, aspect in items:
                rows.append(_row(lang, label, "single", _sentence(lang, clause), {aspect: label}))
                sep = "" if lang == "zh" else " "
                note = f"{CALL_NOTE[lang]}{sep}{clause}{STOP[lang]}"
                rows.append(_row(lang, label, "call_note", note, {aspect: label}))
            for i, (clause, aspect) in enumerate(items):
                other, other_aspect = items[(i + 3) % len(items)]
                text = _join(lang, clause, b["and"], other)
                rows.append(_row(lang, label, "double", text, {aspect: label, other_aspect: label}))
        for i, (good, good_aspect) in enumerate(pos):
            bad, bad_aspect = neg[(i + 5) % len(neg)]
            aspects = {good_aspect: "positive", bad_aspect: "negative"}
            rows.append(_row(lang, "mixed", "mixed", _join(lang, good, b["but"], bad), aspects))
            bad, bad_aspect = neg[(i + 9) % len(neg)]
            aspects = {bad_aspect: "negative", good_aspect: "positive"}
            rows.append(_row(lang, "mixed", "mixed", _join(lang, bad, b["but"], good), aspects))
        for request in b["neutral"]:
            rows.append(_row(lang, "neutral", "request", request, {}))
            sep = "" if lang == "zh" else " "
            rows.append(_row(lang, "neutral", "request", f"{GREETING[lang]}{sep}{request}", {}))
        rows += [_row(lang, label, "negation", text, {}) for text, label in b["negation"]]
        rows += [_row(lang, label, "code_switched", text, {}) for text, label in b["code_switched"]]
        # Written after the term lists were frozen: a fresh check of the rules on these kinds.
        fresh = b.get("fresh", {})
        rows += [
            _row(lang, label, "fresh_negation", t, {}) for t, label in fresh.get("negation", [])
        ]
        rows += [_row(lang, "neutral", "fresh_request", t, {}) for t in fresh.get("request", [])]
        rows += [
            _row(lang, label, "fresh_code_switched", t, {})
            for t, label in fresh.get("code_switched", [])
        ]
    return rows


def main() -> None:
    """Write the set; mixed rows with both clauses on one aspect are dropped (no single gold)."""
    bank = json.loads((DATA / "cx_phrases.json").read_text(encoding="utf-8"))
    rows = [r for r in build(bank) if r["kind"] != "mixed" or len(r["aspects"]) == 2]
    with (DATA / "cx_dev.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} messages")


if __name__ == "__main__":
    main()
