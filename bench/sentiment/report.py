"""Writing `bench/results/sentiment.json` and a Markdown summary of the same numbers."""

from __future__ import annotations

import json
from typing import Any

from bench.sentiment.datasets import ROOT

RESULTS = ROOT / "bench" / "results"
ACCURATE = "accurate (e5-head)"
FAST = "fast path + e5-head"
# The goal for the fast path on the CX mix.
MAX_LOSS_POINTS = 1.0
MIN_SPEEDUP = 5.0


def _points(accurate: float, fast: float) -> float:
    return round(100 * (accurate - fast), 2)


def _split_loss(split: dict[str, Any]) -> dict[str, float]:
    langs = split["by_config"][ACCURATE]["languages"]
    fast = split["by_config"][FAST]["languages"]
    return {lang: _points(langs[lang]["accuracy"], fast[lang]["accuracy"]) for lang in langs}


def _fast_path(report: dict[str, Any]) -> dict[str, Any]:
    mix = report["cx_mix"]
    speed = report["throughput"]["fast_path_speedup_one_core"]
    loss = _points(mix[ACCURATE]["accuracy"], mix[FAST]["accuracy"])
    sets = {k: v for k, v in report["package_data"].items() if isinstance(v, dict)}
    return {
        "mix_accuracy_loss_points": loss,
        "mix_speedup_one_core": speed,
        "mix_speedup_two_cores": report["throughput"]["fast_path_speedup_two_cores"],
        "goal_met": loss <= MAX_LOSS_POINTS and speed >= MIN_SPEEDUP,
        "cx_test_share": report["cx_test"]["by_config"][FAST]["fast_share"],
        "cx_test_loss_points": _split_loss(report["cx_test"]),
        "cx_dev_share": report["cx_dev"]["by_config"][FAST]["fast_share"],
        "cx_dev_loss_points": _split_loss(report["cx_dev"]),
        "package_share": {n: s["results"][FAST]["fast_share"] for n, s in sets.items()},
        "package_loss_points": {
            n: _points(s["results"][ACCURATE]["accuracy"], s["results"][FAST]["accuracy"])
            for n, s in sets.items()
        },
    }


def _cx_table(title: str, split: dict[str, Any]) -> list[str]:
    lines = [f"## {title} (n = {split['n']}; mixed messages scored on aspects only)", ""]
    lines += [
        "| method | lang | n | accuracy | macro-F1 | lang-ID | aspects found | aspect polarity |"
    ]
    lines += ["|---|---|---|---|---|---|---|---|"]
    for config, c in split["by_config"].items():
        for lang, r in c["languages"].items():
            a = r["aspects"]
            lines.append(
                f"| {config} | {lang} | {r['n']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} "
                f"| {r['language_id_accuracy']:.3f} | {a['found']:.3f} "
                f"| {a['polarity_accuracy']:.3f} |"
            )
    v = split["VADER (en)"]
    lines += [
        "",
        f"VADER on the English items: accuracy {v['accuracy']:.3f}, macro-F1 {v['macro_f1']:.3f}.",
        "",
        "Accuracy by message kind (n; accurate / fast path / lexicon only):",
        "",
        "| lang | kind | n | accurate | fast path | lexicon |",
        "|---|---|---|---|---|---|",
    ]
    configs = list(split["by_config"])
    for lang, r in split["by_config"][configs[0]]["languages"].items():
        for kind, acc in r["by_kind"].items():
            others = [
                split["by_config"][c]["languages"][lang]["by_kind"][kind] for c in configs[1:]
            ]
            cells = " | ".join(f"{x:.3f}" for x in (acc, *others))
            lines.append(f"| {lang} | {kind} | {r['kind_n'][kind]} | {cells} |")
    return [*lines, ""]


def _markdown(report: dict[str, Any]) -> str:
    lines = ["# Sentiment evaluation (`python -m bench.sentiment`)", ""]
    lines += ["## Held-out package data (binary: sign of the score)", ""]
    overlap = report["package_data"]["train_eval_overlap"]
    lines += [
        f"Texts shared by the head's training data and any evaluation set, or by the CX dev and "
        f"test splits: {overlap}.",
        "",
    ]
    for name, s in report["package_data"].items():
        if not isinstance(s, dict):
            continue
        lines += [
            f"**{name}** (n = {s['n']})",
            "",
            "| method | accuracy | macro-F1 |",
            "|---|---|---|",
        ]
        for method, r in s["results"].items():
            lines.append(f"| {method} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} |")
        lines.append("")
    lines += _cx_table("Project CX set, held-out TEST split, three classes", report["cx_test"])
    lines += _cx_table(
        "Project CX set, DEV split (term lists tuned on it: optimistic)", report["cx_dev"]
    )
    f = report["fast_path"]
    t = report["throughput"]
    mix = report["cx_mix"]
    verdict = "met" if f["goal_met"] else "MISSED"
    lines += ["## Fast path on the CX mix", "", f"Mix: {mix['definition']}.", ""]
    lines += ["| config | accuracy on the mix | texts/s, 1 process | texts/s, 2 processes |"]
    lines += ["|---|---|---|---|"]
    for config in (ACCURATE, FAST):
        lines.append(
            f"| {config} | {mix[config]['accuracy']:.3f} | {t[config]['one_core']:.1f} "
            f"| {t[config]['two_cores']:.1f} |"
        )
    lines += [
        "",
        f"- Goal (loss ≤ {MAX_LOSS_POINTS} point at ≥ {MIN_SPEEDUP}x): **{verdict}**: loss "
        f"{f['mix_accuracy_loss_points']} points, speed-up {f['mix_speedup_one_core']:.2f}x on "
        f"one process ({f['mix_speedup_two_cores']:.2f}x on two).",
        f"- CX test split: fast path answers {f['cx_test_share']:.1%} of messages alone; loss per "
        f"language {f['cx_test_loss_points']} points.",
        f"- CX dev split: share {f['cx_dev_share']:.1%}; loss {f['cx_dev_loss_points']} points.",
        f"- Package data: share {f['package_share']}; loss {f['package_loss_points']} points.",
    ]
    m = report["machine"]
    lines += [
        "",
        f"Machine: Python {m['python']}, {m['cpus']} CPUs, load {m['load']}; "
        f"run took {report['seconds']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def write_reports(report: dict[str, Any]) -> None:
    """Add the fast-path summary and write both files."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    # Raw numbers first, so a bug in the summary below never costs a whole run.
    (RESULTS / "sentiment.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    report["fast_path"] = _fast_path(report)
    (RESULTS / "sentiment.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / "sentiment.md").write_text(_markdown(report))
    print(_markdown(report))
