"""Writing `bench/results/sentiment.json` and a Markdown summary of the same numbers."""

from __future__ import annotations

import json
from typing import Any

from bench.sentiment.datasets import ROOT

RESULTS = ROOT / "bench" / "results"
ACCURATE = "accurate (e5-head)"
FAST = "default pipeline"
LEXICON = "lexicon only"
# The bound: the default pipeline within one point of the accurate backend per language.
MAX_LOSS_POINTS = 1.0


def _cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    return "-" if value is None else f"{value:.3f}"


def _real_tables(report: dict[str, Any]) -> list[str]:
    lines = [
        "## Real labelled data, test parts (never fitted or tuned on)",
        "",
        "Polar: sign of the score on the positive and negative items. Three-class: the label, "
        "where the gold has neutral.",
        "",
        "| set | method | n | polar accuracy | polar macro-F1 | 3-class macro-F1 | neutral share "
        "| fast share |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in report["real_data"].items():
        for method, row in entry["results"].items():
            lines.append(
                f"| {name} | {method} | {row['n']} | {row['accuracy']:.3f} | {row['macro_f1']:.3f} "
                f"| {_cell(row, 'three_class_macro_f1')} | {row['neutral_share']:.3f} "
                f"| {_cell(row, 'fast_share')} |"
            )
    return [*lines, ""]


def _fast_table(report: dict[str, Any]) -> list[str]:
    lines = [
        "## Fast path per language",
        "",
        f"Loss = accurate backend minus default pipeline, in points of macro-F1 (bound: "
        f"{MAX_LOSS_POINTS}). Throughput: one text per call, cache off, "
        f"{next(iter(report['throughput'].values()))['texts']} texts per language.",
        "",
        "| language | loss, polar | loss, 3-class | fast share | accurate texts/s "
        "| default texts/s | gain |",
        "|---|---|---|---|---|---|---|",
    ]
    speed = report["throughput"]
    for name, row in report["fast_path"].items():
        t = speed.get(name, {})
        three = row["loss_three_class_macro_f1_points"]
        lines.append(
            f"| {name} | {row['loss_macro_f1_points']} | {'-' if three is None else three} "
            f"| {row['fast_share']:.1%} | {t.get('accurate_texts_per_s', float('nan')):.1f} "
            f"| {t.get('default_texts_per_s', float('nan')):.1f} "
            f"| {t.get('speedup', float('nan')):.2f}x |"
        )
    for name, t in speed.items():
        if name not in report["fast_path"]:
            lines.append(
                f"| {name} | - | - | - | {t['accurate_texts_per_s']:.1f} "
                f"| {t['default_texts_per_s']:.1f} | {t['speedup']:.2f}x |"
            )
    return [*lines, ""]


def _cx_table(split: dict[str, Any]) -> list[str]:
    lines = [
        f"## Extra check: project-written CX test split (n = {split['n']}, no language hint)",
        "",
        "| method | lang | n | accuracy | macro-F1 | language ID |",
        "|---|---|---|---|---|---|",
    ]
    for config, c in split["by_config"].items():
        for lang, r in c["languages"].items():
            lines.append(
                f"| {config} | {lang} | {r['n']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} "
                f"| {r['language_id_accuracy']:.3f} |"
            )
    return [*lines, ""]


def _markdown(report: dict[str, Any]) -> str:
    lines = ["# Sentiment evaluation (`python -m bench.sentiment`)", ""]
    lines += _real_tables(report)
    lines += _fast_table(report)
    ack = report["acknowledgements"]
    lines += [
        f"Acknowledgements labelled negative: {len(ack['negative'])} of {ack['n']}"
        + (f" ({', '.join(ack['negative'])})" if ack["negative"] else "")
        + ".",
        "",
    ]
    lines += _cx_table(report["cx_test"])
    m = report["machine"]
    lines += [
        f"Machine: Python {m['python']}, {m['cpus']} CPUs, load {m['load']}; "
        f"run took {report['seconds']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def write_reports(report: dict[str, Any]) -> None:
    """Write both files."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sentiment.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / "sentiment.md").write_text(_markdown(report))
    print(_markdown(report))
