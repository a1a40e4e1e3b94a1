"""`cem sandbox serve` / `generate` end to end: a real process, real clients."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from simple_salesforce import Salesforce
from typer.testing import CliRunner

from sandbox.cli import sandbox_app
from sandbox.salesforce.routing import sandbox_login_session

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("data") / "ds"
    result = CliRunner().invoke(
        sandbox_app, ["generate", str(out), "--customers", "12", "--seed", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    return out


@pytest.fixture(scope="module")
def served(dataset: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox.cli",
            "serve",
            "--crm",
            "both",
            "--json",
            "--dataset",
            str(dataset),
            "--page-size",
            "5",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first_line = process.stdout.readline()
    try:
        info = json.loads(first_line)
    except json.JSONDecodeError:
        process.kill()
        errors = process.stderr.read() if process.stderr else ""
        raise AssertionError(f"no JSON on the first line: {first_line!r} {errors}") from None
    yield process, info
    if process.poll() is None:
        process.kill()
        process.wait(10)


def test_generate_refuses_a_non_empty_folder(dataset: Path) -> None:
    result = CliRunner().invoke(sandbox_app, ["generate", str(dataset), "--customers", "3"])
    assert result.exit_code == 1
    assert "is not empty" in result.output
    assert "Traceback" not in result.output


def test_unknown_or_invalid_fault_profile_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(sandbox_app, ["serve", "--faults", "nasty"])
    assert result.exit_code == 2
    assert "flaky, hostile, none" in _flat(result.output)
    assert "Traceback" not in result.output
    bad = tmp_path / "faults.json"
    bad.write_text('{"rules": [{"error_5xx": 0.9, "slow": 0.9}]}', encoding="utf-8")
    result = CliRunner().invoke(sandbox_app, ["serve", "--faults", str(bad)])
    assert result.exit_code == 2
    assert "add up to" in _flat(result.output)


def _flat(output: str) -> str:
    """The text of typer's boxed error, unwrapped."""
    return " ".join(output.replace("│", " ").split())


def test_serve_json_drives_both_real_clients(
    served: tuple[subprocess.Popen[str], dict[str, Any]],
) -> None:
    _, info = served
    sf_info = info["salesforce"]
    session = requests.Session()
    session.trust_env = False
    session.verify = sf_info["ca_cert"]
    sf = Salesforce(
        instance_url=sf_info["instance_url"], session_id=sf_info["session_id"], session=session
    )
    contacts = list(sf.query_all_iter("SELECT Id FROM Contact"))
    assert len(contacts) == sf_info["loaded"]["Contact"] > 5  # more than one page of 5
    oauth = sf_info["oauth"]
    login = Salesforce(
        username=oauth["username"],
        password=oauth["password"],
        consumer_key=oauth["client_id"],
        consumer_secret=oauth["client_secret"],
        session=sandbox_login_session(sf_info["base_url"], sf_info["ca_cert"]),
    )
    assert login.query("SELECT COUNT() FROM Account")["totalSize"] == sf_info["loaded"]["Account"]
    hs_info = info["hubspot"]
    hubspot = HubSpot(access_token=hs_info["access_token"], host=hs_info["base_url"])
    page = hubspot.crm.contacts.basic_api.get_page(limit=100)
    assert len(page.results) == hs_info["loaded"]["contacts"]
    # The same dataset went into both CRMs.
    assert hs_info["loaded"]["contacts"] == sf_info["loaded"]["Contact"] + sf_info["loaded"].get(
        "Lead", 0
    )


def test_sigterm_stops_cleanly_and_removes_key_material(
    served: tuple[subprocess.Popen[str], dict[str, Any]],
) -> None:
    process, info = served
    ca = Path(info["salesforce"]["ca_cert"])
    assert ca.exists()
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
    assert not ca.exists()
