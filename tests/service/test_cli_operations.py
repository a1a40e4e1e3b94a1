"""Issue 16, operations: the CLI logs as CEM_LOG_LEVEL / CEM_LOG_FORMAT say, and `cem serve`
fails in one line when it cannot start (database down, bad mapping, bad setting)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import _settings, main

DOWN = "postgresql+psycopg://cem:s3cret-pw@127.0.0.1:1/cem"


@pytest.fixture(autouse=True)
def _no_stray_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("CEM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CEM_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")


def test_cli_is_quiet_by_default_and_honours_the_log_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _settings()
    assert logging.getLogger().getEffectiveLevel() == logging.WARNING
    monkeypatch.setenv("CEM_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("CEM_LOG_FORMAT", "json")
    _settings()
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    capsys.readouterr()
    logging.getLogger("cem.test").info("hello")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(line)["message"] == "hello"
    monkeypatch.delenv("CEM_LOG_FORMAT")  # level set, format not: text stays
    _settings()
    logging.getLogger("cem.test").info("plain")
    assert "plain" in capsys.readouterr().err
    assert not capsys.readouterr().err.startswith("{")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CEM_DATABASE_URL": DOWN, "CEM_AUTO_MIGRATE": "false"}, "the database at 127.0.0.1:1"),
        ({"CEM_DATABASE_URL": DOWN}, "the database at 127.0.0.1:1"),
        ({"CEM_MAPPINGS_DIR": "/nonexistent/mappings"}, "invalid mapping"),
        ({"CEM_PORT": "eighty"}, "invalid setting CEM_PORT"),
    ],
)
def test_serve_start_up_failures_are_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    expected: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "1"]) == 1
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "s3cret-pw" not in err
    assert "Traceback" not in out + err


def test_serve_with_the_database_down_in_a_real_process(tmp_path: Path) -> None:
    """What the README promises, through the installed entry point: one line, exit 1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CEM_")}
    env |= {"CEM_DATABASE_URL": DOWN, "CEM_AUTO_MIGRATE": "false", "CEM_LOG_FORMAT": "json"}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())",
         "serve", "--port", "1"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: the database at 127.0.0.1:1 does not answer (")
    assert "s3cret-pw" not in done.stderr + done.stdout
