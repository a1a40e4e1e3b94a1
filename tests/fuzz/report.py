"""The fuzz suite's report: bench/results/fuzz.json and fuzz.md, written when CEM_FUZZ_REPORT
names the JSON file (`make test-fuzz` does), so a partial run never overwrites it."""

from __future__ import annotations

import json
import platform
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Filled during the session: "schemathesis" by its test, "targeted" by the conftest hooks.
RESULTS: dict[str, Any] = {}
TARGETED: Counter[str] = Counter()  # requests sent by targeted tests, per test module
OUTCOMES: dict[str, dict[str, int]] = {}  # per test module: passed / failed / skipped


def write(json_path: Path) -> None:
    report = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "command": "make test-fuzz",
        **RESULTS,
        "targeted": {
            module: {"requests": TARGETED.get(module, 0), **outcomes}
            for module, outcomes in sorted(OUTCOMES.items())
        },
    }
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    json_path.with_suffix(".md").write_text(_markdown(report))


def _markdown(report: dict[str, Any]) -> str:
    lines = ["# Fuzz suite (`make test-fuzz`)", "", f"Run {report['generated_at']}.", ""]
    st = report.get("schemathesis")
    if st:
        lines += [
            "## Schemathesis against `cem serve` (SQLite, both CRM sandboxes)",
            "",
            "| what | value |",
            "|---|---|",
            f"| operations tested | {st['operations']} |",
            f"| test cases generated | {st['test_cases']} |",
            f"| requests sent | {st['requests']} |",
            f"| responses by class | {_pairs(st['responses_by_class'])} |",
            f"| examples per operation (max) · seed | {st['max_examples_per_operation']} · "
            f"{st['seed']} |",
            f"| phases run | {', '.join(st['phases'])} |",
            f"| failures (5xx, problem+json, conformance) | {_pairs(st['failures']) or '0'} |",
            f"| errors | {st['errors']} |",
            f"| running time | {st['running_time_s']} s |",
            "",
        ]
        if st["advisory"]:
            lines += ["Advisory findings (input strictness, not failed on):", ""]
            lines += [f"- {kind}: {', '.join(ops)}" for kind, ops in st["advisory"].items()]
            lines.append("")
    lines += [
        "## Targeted tests",
        "",
        "| module | requests | passed | failed | skipped |",
        "|---|---|---|---|---|",
    ]
    for module, row in report["targeted"].items():
        lines.append(
            f"| {module} | {row['requests']} | {row.get('passed', 0)} | "
            f"{row.get('failed', 0)} | {row.get('skipped', 0)} |"
        )
    return "\n".join(lines) + "\n"


def _pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in values.items())
