"""`python -m bench.report`: every goal gets a row, missing figures say so, met/missed is right."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import GOALS, build, to_markdown


def _write(folder: Path, name: str, doc: dict[str, object]) -> None:
    (folder / name).write_text(json.dumps(doc))


def test_a_missing_result_file_is_reported_not_dropped(tmp_path: Path) -> None:
    report = build(tmp_path)
    assert len(report["goals"]) == len(GOALS)
    assert {row["status"] for row in report["goals"]} == {"not measured"}
    assert report["counts"]["not measured"] == len(GOALS)


def test_met_and_missed_follow_the_goal_direction(tmp_path: Path) -> None:
    _write(tmp_path, "sandbox-read.json", {"records_per_second": 4000.0, "at": "2026-01-01"})
    _write(tmp_path, "sandbox-hubspot-read.json", {"records_per_second": 6000.0})
    _write(
        tmp_path,
        "api-score.json",
        {"summary": {"bare": {"max_rps_median": 1000.0}, "score": {"max_rps_median": 600.0}}},
    )
    rows = {row["goal"]: row for row in build(tmp_path)["goals"]}

    salesforce = rows["Salesforce emulator paged read of 100,000 contacts"]
    assert salesforce["status"] == "missed"
    assert salesforce["shortfall"] == 1000.0
    assert salesforce["measured_at"] == "2026-01-01"
    assert rows["HubSpot emulator paged read of 100,000 contacts"]["status"] == "met"

    # A limit that is a share of a peer measured in the same run.
    throughput = rows["POST /v1/score throughput (limit: 50 % of the bare endpoint's)"]
    assert throughput["limit"] == 500.0
    assert throughput["status"] == "met"
    assert throughput["peer"]["ratio"] == 0.6


def test_a_result_file_without_the_figure_names_what_it_lacks(tmp_path: Path) -> None:
    runs = [{"mode": "faults", "records_lost": 0}, {"mode": "crash", "records_lost": 2}]
    _write(tmp_path, "faults.json", {"runs": runs})
    rows = {row["goal"]: row for row in build(tmp_path)["goals"]}
    lost = rows["fault, crash and quota runs: records lost"]
    assert lost["status"] == "missed"
    assert lost["measured"] == 2.0
    tasks = rows["fault, crash and quota runs: duplicate tasks"]
    assert tasks["status"] == "not measured"
    assert "duplicate_tasks" in tasks["reason"]


def test_markdown_has_one_line_per_goal(tmp_path: Path) -> None:
    _write(tmp_path, "sandbox-read.json", {"records_per_second": 4000.0})
    markdown = to_markdown(build(tmp_path))
    table = [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(table) == len(GOALS) + 1  # the header
    assert "**missed** by 1,000 records/s" in markdown
