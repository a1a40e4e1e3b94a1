"""pip-audit of the pinned dependency set (requirements.lock): `make audit`.

pip-audit asks an advisory database (PyPI's vulnerability data, by default) about every pin.
When that database cannot be reached, or answers for none of the pins, pip-audit still prints
"No known vulnerabilities found"; this test refuses to count that as a pass and skips, saying
why, instead. Known vulnerabilities fail it, unless listed in ACCEPTED with a reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.audit

LOCK = Path(__file__).resolve().parents[2] / "requirements.lock"
# Advisory id -> why it does not affect us (and until when). Empty: nothing accepted.
ACCEPTED: dict[str, str] = {}
TIMEOUT = 300


def _audit(output: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("pip-audit")),
        "--requirement",
        str(LOCK),
        "--no-deps",  # the lock already holds the whole transitive set, pinned
        "--disable-pip",  # audit the pins as written; no resolver, no virtualenv
        "--format",
        "json",
        "--output",
        str(output),
        "--progress-spinner",
        "off",
        "--timeout",
        "15",
        *(arg for vuln in ACCEPTED for arg in ("--ignore-vuln", vuln)),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def test_pinned_dependencies_have_no_known_vulnerabilities(tmp_path: Path) -> None:
    output = tmp_path / "audit.json"
    run = _audit(output)
    if not output.exists():
        pytest.skip(f"no advisory database reachable; pip-audit said: {run.stderr.strip()[-500:]}")
    dependencies: list[dict[str, Any]] = json.loads(output.read_text())["dependencies"]
    pins = [line for line in LOCK.read_text().splitlines() if "==" in line]
    unaudited = {d["name"]: d["skip_reason"] for d in dependencies if d.get("skip_reason")}
    audited = len(dependencies) - len(unaudited)
    print(f"pip-audit: {audited} of {len(pins)} pins audited, {len(unaudited)} not")
    vulnerable = {
        f"{d['name']}=={d['version']}": [v["id"] for v in d["vulns"]]
        for d in dependencies
        if d.get("vulns")
    }
    assert not vulnerable, f"known vulnerabilities in requirements.lock: {vulnerable}"
    if audited == 0:
        reason = next(iter(unaudited.values()), "no answer")
        pytest.skip(
            f"no advisory database reachable: none of the {len(pins)} pins could be audited "
            f"(first reason: {reason})"
        )
    assert not unaudited, f"pins pip-audit could not check: {sorted(unaudited)}"
