"""pytest plugin for `make test-fuzz` (`-p tests.fuzz.plugin`): tallies the outcome of every
fuzz and security test and writes the report named by CEM_FUZZ_REPORT at the end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fuzz import report as fuzz_report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # One count per test: its call, or its setup when that failed or skipped it.
    if report.when != "call" and not (report.when == "setup" and not report.passed):
        return
    module = report.nodeid.split("::")[0]
    outcomes = fuzz_report.OUTCOMES.setdefault(module, {"passed": 0, "failed": 0, "skipped": 0})
    outcomes[report.outcome] += 1


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("CEM_FUZZ_REPORT")
    if target:
        fuzz_report.write(Path(target))
