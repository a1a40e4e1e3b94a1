"""Schemathesis against the running service: every operation of its own OpenAPI document, with an
admin key, in all phases (examples, coverage, fuzzing, stateful) and both modes (valid and
invalid data).

Must hold for every request: no 5xx, every error is problem+json, every status, content type,
header and body conforms to the document. Two checks judge the *input* schema rather than the
service's answers (a valid-looking request rejected by a cross-field rule, an invalid one
coerced by pydantic's lax mode); their findings are reported as advisory, not failed on.

`make test-fuzz` runs it; CEM_FUZZ_EXAMPLES (default 150 per operation) and CEM_FUZZ_SEED
(default 20261122) tune it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz.live import HUBSPOT, SALESFORCE, LiveService
from tests.fuzz.report import RESULTS

pytestmark = pytest.mark.fuzz

HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
EXAMPLES = int(os.environ.get("CEM_FUZZ_EXAMPLES", "150"))
SEED = int(os.environ.get("CEM_FUZZ_SEED", "20261122"))
# Findings about how strictly requests are validated, not about what the service answers.
ADVISORY = {"AcceptedNegativeData", "RejectedPositiveData"}


def _by_status_class(har: Path) -> Counter[str]:
    """Requests sent, counted by the status class of their response ("2xx", "4xx", ...)."""
    entries: list[dict[str, Any]] = json.loads(har.read_text())["log"]["entries"]
    return Counter(f"{entry['response']['status'] // 100}xx" for entry in entries)


def test_schemathesis_finds_no_failures(tmp_path: Path) -> None:
    # Kept after the run (git-ignored): the full output, JSON summary, HAR and service log.
    reports = Path(__file__).resolve().parents[2] / ".cem" / "fuzz"
    reports.mkdir(parents=True, exist_ok=True)
    with LiveService(tmp_path) as live:
        admin_id = live.admin_key.split("_")[1]
        env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": str(HOOKS),
            "CEM_FUZZ_SEEDS": json.dumps(live.seeds),
            "CEM_FUZZ_CONNECTIONS": json.dumps([SALESFORCE, HUBSPOT]),
            "CEM_FUZZ_PROTECTED_KEY": admin_id,
        }
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{live.url}/openapi.json",
            "--header",
            f"Authorization: Bearer {live.admin_key}",
            "--checks",
            "all",
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            str(SEED),
            "--workers",
            "2",
            "--request-timeout",
            "60",
            "--report",
            "json,har",
            "--report-json-path",
            str(reports / "run.json"),
            "--report-har-path",
            str(reports / "requests.har"),
            "--no-color",
        ]
        run = subprocess.run(
            command,
            env=env,
            cwd=reports,  # schemathesis keeps its crash cache (`st replay`) in the cwd
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        server_log = live.log_text()
    (reports / "schemathesis.out").write_text(run.stdout + run.stderr)
    (reports / "serve.log").write_text(server_log)
    summary = json.loads((reports / "run.json").read_text())
    by_class = _by_status_class(reports / "requests.har")
    failures: list[dict[str, Any]] = summary["failures"]
    required = [f for f in failures if f["type"] not in ADVISORY]
    RESULTS["schemathesis"] = {
        "operations": summary["operations"]["tested"],
        "test_cases": summary["test_cases"]["generated"],
        "requests": sum(by_class.values()),
        "responses_by_class": dict(sorted(by_class.items())),
        "max_examples_per_operation": EXAMPLES,
        "seed": SEED,
        "phases": [name for name, p in summary["phases"].items() if p["status"] != "skip"],
        "running_time_s": round(summary["running_time"], 1),
        "failures": {f"{f['code']} {f['title']}": f["count"] for f in required},
        "advisory": {
            f"{f['code']} {f['title']}": sorted(f["operations"])
            for f in failures
            if f["type"] in ADVISORY
        },
        "errors": len(summary["errors"]),
    }
    # The ERRORS section (if any) and the summary say what went wrong; the rest is in .cem/fuzz.
    errors_at = run.stdout.find("ERRORS")
    tail = (run.stdout[errors_at : errors_at + 4000] if errors_at >= 0 else "") + run.stdout[-3000:]
    assert summary["operations"]["tested"] == summary["operations"]["total"], tail
    assert not summary["errors"], tail
    assert by_class.get("5xx", 0) == 0, tail
    assert not required, tail
    assert "Traceback" not in server_log, server_log[-3000:]
