"""Writing `bench/results/sentiment.json` and a Markdown summary of the same numbers."""

from __future__ import annotations

import json
from typing import Any

from bench.sentiment.datasets import ROOT

RESULTS = ROOT / "bench" / "results"
ACCURATE = "accurate (e5-head)"
FAST = "fast path + e5-head"


def _share(routed: dict[str, int]) -> float:
    total = sum(routed.values())
    return routed.get("lexicon", 0) / total if total else 0.0


def _fast_path(report: dict[str, Any]) -> dict[str, Any]:
    cx = report["cx_set"]["by_config"]
    langs = cx[ACCURATE]["languages"]
    loss = {
        lang: langs[lang]["accuracy"] - cx[FAST]["languages"][lang]["accuracy"] for lang in langs
    }
    n = {lang: langs[lang]["n"] for lang in langs}
    overall = sum(loss[lang] * n[lang] for lang in langs) / sum(n.values())
    sets = {k: v for k, v in report["package_data"].items() if isinstance(v, dict)}
    package = {
        name: s["results"][ACCURATE]["accuracy"] - s["results"][FAST]["accuracy"]
        for name, s in sets.items()
    }
    return {
        "cx_share_of_units": _share(cx[FAST]["routed"]),
        "cx_accuracy_loss_points": {k: round(100 * v, 2) for k, v in loss.items()},
        "cx_accuracy_loss_points_overall": round(100 * overall, 2),
        "package_share_of_units": {
            name: _share(s["results"][FAST]["routed"]) for name, s in sets.items()
        },
        "package_accuracy_loss_points": {k: round(100 * v, 2) for k, v in package.items()},
        "speedup_one_core": report["throughput"]["fast_path_speedup_one_core"],
    }


def _markdown(report: dict[str, Any]) -> str:
    lines = ["# Sentiment evaluation (`python -m bench.sentiment`)", ""]
    lines += ["## Held-out package data (binary: sign of the score)", ""]
    overlap = report["package_data"]["train_eval_overlap"]
    lines += [f"Texts shared by the head's training data and any evaluation set: {overlap}.", ""]
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
    cx = report["cx_set"]
    lines += [
        f"## Project CX set, three classes (n = {cx['n']}; mixed messages scored on aspects)",
        "",
    ]
    lines += [
        "| method | lang | n | accuracy | macro-F1 | lang-ID | aspects found | aspect polarity |"
    ]
    lines += ["|---|---|---|---|---|---|---|---|"]
    for config, c in cx["by_config"].items():
        for lang, r in c["languages"].items():
            a = r["aspects"]
            lines.append(
                f"| {config} | {lang} | {r['n']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} "
                f"| {r['language_id_accuracy']:.3f} | {a['found']:.3f} "
                f"| {a['polarity_accuracy']:.3f} |"
            )
    v = cx["VADER (en)"]
    lines += [
        "",
        f"VADER on the English CX items: accuracy {v['accuracy']:.3f}, "
        f"macro-F1 {v['macro_f1']:.3f}.",
        "",
    ]
    lines += [
        "Accuracy by message kind (accurate / fast path):",
        "",
        "| lang | kind | accurate | fast path |",
        "|---|---|---|---|",
    ]
    for lang, r in cx["by_config"][ACCURATE]["languages"].items():
        for kind, acc in r["by_kind"].items():
            fast = cx["by_config"][FAST]["languages"][lang]["by_kind"][kind]
            lines.append(f"| {lang} | {kind} | {acc:.3f} | {fast:.3f} |")
    f = report["fast_path"]
    t = report["throughput"]
    lines += ["", "## Fast path and throughput", ""]
    lines += [
        "- Share of scoring units answered by the lexicon on the CX set: "
        f"{f['cx_share_of_units']:.1%}",
        "- Accuracy loss against the accurate backend on the CX set: "
        f"{f['cx_accuracy_loss_points_overall']} points "
        f"(per language {f['cx_accuracy_loss_points']})",
        f"- On package data: share {f['package_share_of_units']}, "
        f"loss {f['package_accuracy_loss_points']} points",
        f"- Speed-up on one core: {f['speedup_one_core']:.2f}x",
        "",
        "| config | texts/s, 1 process | texts/s, 2 processes |",
        "|---|---|---|",
    ]
    for config in (ACCURATE, FAST):
        lines.append(f"| {config} | {t[config]['one_core']:.1f} | {t[config]['two_cores']:.1f} |")
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
