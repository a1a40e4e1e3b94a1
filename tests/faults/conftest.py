"""The fault, crash and quota suites' runs, made once per session and shared by the tests.

Size: `CEM_FAULTS_CUSTOMERS` (`make test-faults` / `make test-quota` set 10,000); without it a
reduced size that keeps `make test` quick. For each CRM the clean reference run and the runs
compared with it go on concurrently: each is its own sandbox process and service process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.faults.scenario import (
    RunResult,
    clean_run,
    crash_plan,
    crash_run,
    quota_run,
)

REDUCED = 20
CRMS = ("salesforce", "hubspot")


def customers() -> int:
    return int(os.environ.get("CEM_FAULTS_CUSTOMERS", REDUCED))


def reduced() -> bool:
    """`make test`: the crash runs are left out (each death costs the stale-job wait, 20 s+)."""
    return "CEM_FAULTS_CUSTOMERS" not in os.environ


class Runs:
    """Lazily started runs, keyed by (crm, mode); each starts at most once."""

    def __init__(self, root: Path, size: int) -> None:
        self.root = root
        self.size = size
        self._pool = ThreadPoolExecutor(max_workers=8)
        self._futures: dict[tuple[str, str], Future[RunResult]] = {}

    def _start(self, crm: str, mode: str, work: Callable[[Path], RunResult]) -> None:
        if (crm, mode) not in self._futures:
            self._futures[(crm, mode)] = self._pool.submit(work, self.root / f"{crm}-{mode}")

    def start(self, crm: str, *modes: str) -> None:
        self._start(crm, "clean", lambda d: clean_run(crm, self.size, d))
        for mode in modes:
            if mode == "faults":
                self._start(crm, mode, lambda d: clean_run(crm, self.size, d, faults=True))
            elif mode == "crash":
                # The plan needs the clean run's progress, so the crash run waits for it.
                self._start(
                    crm,
                    mode,
                    lambda d: crash_run(
                        crm, self.size, d, crash_plan(self.get(crm, "clean"), seed=len(crm))
                    ),
                )
            elif mode == "quota":
                self._start(
                    crm, mode, lambda d: quota_run(crm, self.size, d, self.get(crm, "clean"))
                )

    def get(self, crm: str, mode: str) -> RunResult:
        return self._futures[(crm, mode)].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    started = Runs(tmp_path_factory.mktemp("faults"), customers())
    yield started  # type: ignore[misc]
    started.close()
