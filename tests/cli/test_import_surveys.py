"""`cem import surveys` on both databases: the dry run and the import print their counts (JSON
or text) and write the report file without personal values; exit code 0 when every row went
in, 3 when rows were left out, 1 with one line and no traceback for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.cli import main
from service.domain import Customer, SourceRef
from service.store.database import make_engine, upgrade
from service.store.records import RecordStore

MAPPING = """\
tool: google-forms
response_id:
  columns: [Timestamp, Email Address]
submitted_at:
  column: Timestamp
  format: "%m/%d/%Y %H:%M:%S"
  timezone: Asia/Ho_Chi_Minh
respondent:
  email: Email Address
questions:
  - name: ces
    kind: ces
    column: How easy was it?
"""
EXPORT = (
    "Timestamp,Email Address,How easy was it?\n"
    "5/3/2026 14:02:10,lan.pham@example.com,6\n"
    "5/3/2026 15:40:55,stranger@example.com,2\n"
    "5/3/2026 16:00:00,lan.pham@example.com,nine\n"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("CEM_DATABASE_URL", database_url)
    engine = make_engine(database_url)
    upgrade(engine)
    RecordStore(engine).upsert(
        "crm-a",
        [
            Customer(
                id="c1",
                source=SourceRef(connection="crm-a", crm_object="Contact", crm_id="c1"),
                email="lan.pham@example.com",
            )
        ],
    )
    engine.dispose()
    (tmp_path / "forms.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "export.csv").write_text(EXPORT, encoding="utf-8")
    return tmp_path


def _argv(files: Path, *extra: str) -> list[str]:
    return [
        "import", "surveys", str(files / "export.csv"),
        "--mapping", str(files / "forms.yaml"), "--no-sentiment", *extra,
    ]  # fmt: skip


def test_dry_run_then_import_then_nothing_new(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, *_argv(files, "--dry-run", "--json"))
    assert code == 3  # a row matched no one and one is invalid
    dry = json.loads(out)
    assert dry["dry_run"] is True
    assert dry["rows"] == {
        "read": 3, "valid": 2, "invalid": 1, "matched": 1, "unmatched": 1,
        "new": 1, "updated": 0, "already_imported": 0,
    }  # fmt: skip
    assert dry["invalid"] == [{"row": 4, "column": "How easy was it?",
                               "problem": "'nine' is not a number"}]  # fmt: skip
    assert [u["row"] for u in dry["unmatched"]] == [3]
    report_file = files / "export.csv.report.json"
    written = report_file.read_text(encoding="utf-8")
    assert json.loads(written)["rows"] == dry["rows"]
    assert "example.com" not in written

    code, out, _ = run(capsys, *_argv(files, "--json"))
    assert code == 3
    assert json.loads(out)["rows"]["new"] == 1
    assert json.loads(out)["deferred"] == ["crm-a: not configured here"]

    target = files / "again.json"
    code, out, err = run(capsys, *_argv(files, "--report", str(target)))
    assert code == 3
    assert "0 new, 0 updated, 1 already imported" in out
    assert "unmatched: row 3: no single person holds this e-mail" in out
    assert f"report: {target}" in err
    assert json.loads(target.read_text(encoding="utf-8"))["rows"]["already_imported"] == 1


def test_a_complete_import_exits_zero(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (files / "export.csv").write_text(EXPORT.splitlines()[0] + "\n" + EXPORT.splitlines()[1])
    code, out, _ = run(capsys, *_argv(files))
    assert code == 0
    assert "1 new, 0 updated, 0 already imported" in out


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (("mapping", "    kind: ces\n", "    kind: effort\n"), "forms.yaml:12: questions.0.kind"),
        (("export", "How easy was it?", "How easy?"), "no column 'How easy was it?'"),
        (("export", "Timestamp,", "Timestamp;"), "no column"),
        (("rename", "export.csv", "export.sav"), "cannot tell the format"),
        (("connection", "", ""), "no connection 'crm-x'"),
    ],
)
def test_bad_input_is_one_line_without_traceback(
    files: Path, capsys: pytest.CaptureFixture[str], damage: tuple[str, str, str], expected: str
) -> None:
    what, old, new = damage
    argv = _argv(files)
    if what == "mapping":
        path = files / "forms.yaml"
        path.write_text(path.read_text().replace(old, new))
    elif what == "export":
        path = files / "export.csv"
        path.write_text(path.read_text().replace(old, new, 1))
    elif what == "rename":
        (files / old).rename(files / new)
        argv[2] = str(files / new)
    else:
        argv += ["--connection", "crm-x"]
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert expected in err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err + out
