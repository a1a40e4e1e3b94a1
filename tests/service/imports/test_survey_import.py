"""The survey import end to end on both databases, against customer records stored as a sync
stores them: respondents matched by the identity graph's rules or by CRM id, answers in the
person's history, comments with their sentiment, a re-import that changes nothing, an edited row
that updates, a dry run that writes nothing, unmatched rows imported once the person exists, and
an erasure that takes the imported answers with it."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from service.config import Settings
from service.domain import Channel, Customer, SourceRef, SurveyKind
from service.imports.mapping import Mapping, load_mapping
from service.imports.readers import open_table
from service.main import sync_stores
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.settings import SentimentSettings
from service.store.erasure import ErasureStore
from service.store.survey_imports import SurveyImportLookups
from service.store.tables import CrmLink, RescoreMark
from service.store.tasks import TaskLedgerRepository
from service.usecases.erase import ErasureStores, erase_customer
from service.usecases.survey_import import ImportReport, ImportSetupError, SurveyImport
from service.usecases.sync import SyncStores

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HEADER = ["Response", "Submitted", "E-mail", "Phone", "Contact", "NPS", "Satisfaction", "Why"]
MAPPING = """\
tool: acme-survey
response_id:
  column: Response
submitted_at:
  column: Submitted
respondent:
  email: E-mail
  phone: Phone
  crm_id:
    column: Contact
    connection: crm-a
touchpoint: onboarding
channel: email
questions:
  - name: nps
    kind: nps
    column: NPS
  - name: csat
    kind: csat
    column: Satisfaction
    labels: {Very satisfied: 5, Unhappy: 1}
  - name: why
    kind: comment
    column: Why
    about: nps
"""
# Row numbers in the file: the header is row 1.
ROWS = [
    ["r1", "2026-05-02T09:00:00", "Ana.Lee@Example.com", "", "", "9", "Very satisfied",
     "Great service, very helpful staff"],  # row 2: by e-mail (written differently)
    ["r2", "2026-05-02T10:00:00", "info@example.com", "", "", "3", "", ""],  # 3: a role address
    ["r3", "2026-05-02T11:00:00", "", "+84 90 123 4567", "", "5", "", ""],  # 4: a phone alone
    ["r4", "2026-05-03T09:00:00", "", "", "a2", "7", "", ""],  # 5: by CRM id
    ["r5", "2026-05-03T10:00:00", "ana.lee@example.com", "", "", "eleven", "", ""],  # 6: bad
    ["r6", "2026-05-03T11:00:00", "cuong@example.com", "", "", "10", "", ""],  # 7: unknown
]  # fmt: skip


def _customer(connection: str, crm_id: str, email: str, language: str = "en") -> Customer:
    return Customer(
        id=crm_id,
        source=SourceRef(connection=connection, crm_object="Contact", crm_id=crm_id),
        display_name=crm_id,
        email=email,
        language=language,
    )


@pytest.fixture
def stores(engine: Engine) -> SyncStores:
    stores = sync_stores(Settings(), engine)
    # Ana has a record in both CRMs (one person); Binh in crm-a only; a shop mailbox.
    stores.records.upsert(
        "crm-a",
        [
            _customer("crm-a", "a1", "ana.lee@example.com"),
            _customer("crm-a", "a2", "binh@example.com", "vi"),
            _customer("crm-a", "a3", "info@example.com"),
        ],
    )
    stores.records.upsert("crm-b", [_customer("crm-b", "b7", "ANA.LEE@example.com")])
    return stores


def _person(stores: SyncStores, connection: str, crm_id: str) -> str:
    found = stores.records.known_customer(connection, crm_id)
    assert found is not None
    return found


def _write(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([HEADER, *rows])
    return path


@pytest.fixture
def mapping(tmp_path: Path) -> Mapping:
    path = tmp_path / "acme.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return load_mapping(path)


def _importer(engine: Engine, stores: SyncStores) -> SurveyImport:
    return SurveyImport(
        stores,
        SurveyImportLookups(engine),
        lambda name: pytest.fail(f"no connection is configured here, none is pushed ({name})"),
        connections=set(),
        analyzer=SentimentAnalyzer(SentimentSettings(backends={"*": ("lexicon",)})),
    )


def _run(
    engine: Engine, stores: SyncStores, mapping: Mapping, path: Path, **options: Any
) -> ImportReport:
    return _importer(engine, stores).run(open_table(path, mapping.format), mapping, NOW, **options)


def _imported(engine: Engine) -> list[tuple[str, str, str | None, Any]]:
    with Session(engine) as session:
        rows = session.execute(
            select(CrmLink.connection, CrmLink.crm_id, CrmLink.customer_id, CrmLink.linked_at)
            .where(CrmLink.crm_object == "import:acme-survey")
            .order_by(CrmLink.crm_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_import_matches_stores_marks_and_reimports_nothing(
    engine: Engine, stores: SyncStores, mapping: Mapping, tmp_path: Path
) -> None:
    ana, binh = _person(stores, "crm-a", "a1"), _person(stores, "crm-a", "a2")
    assert _person(stores, "crm-b", "b7") == ana  # one person across the two CRMs
    path = _write(tmp_path / "export.csv", ROWS)

    first = _run(engine, stores, mapping, path)
    assert (first.rows_read, first.valid, first.invalid) == (6, 5, 1)
    assert [(p.row, p.column) for p in first.problems] == [(6, "NPS")]
    assert dict(first.matched_by) == {"email": 1, "crm_id": 1}
    assert [u.row for u in first.unmatched] == [3, 4, 7]
    assert "role address" in first.unmatched[0].reason
    assert "a phone alone" in first.unmatched[1].reason
    assert (first.new, first.updated, first.already_imported) == (2, 0, 0)
    assert first.records_new == 4  # Ana: NPS, CSAT and the comment; Binh: NPS
    assert first.persons == 2
    assert not first.complete
    # Nothing in the report names anyone.
    assert "example.com" not in str(first.as_dict())

    history = stores.records.history([ana, binh])
    surveys = {s.kind: s for s in history[ana].surveys}
    assert surveys[SurveyKind.NPS].value == 9
    assert surveys[SurveyKind.CSAT].value == 5  # from its label
    assert surveys[SurveyKind.NPS].touchpoint == "onboarding"
    assert surveys[SurveyKind.NPS].channel is Channel.EMAIL
    (comment,) = history[ana].interactions
    assert comment.channel is Channel.SURVEY
    assert comment.sentiment is not None
    assert comment.sentiment.score > 0
    assert [s.value for s in history[binh].surveys] == [7]
    # Stored under the person's CRM record, as the source import:<tool>.
    assert {c for c, *_ in _imported(engine)} == {"crm-a"}
    # Marked for each CRM holding them, whose next sync pushes (none is configured here).
    with Session(engine) as session:
        marks = set(session.execute(select(RescoreMark.connection, RescoreMark.customer_id)))
    assert marks == {("crm-a", ana), ("crm-b", ana), ("crm-a", binh)}
    assert sorted(first.deferred) == ["crm-a: not configured here", "crm-b: not configured here"]

    before = _imported(engine)
    again = _run(engine, stores, mapping, path)
    assert (again.new, again.updated, again.already_imported) == (0, 0, 2)
    assert (again.records_new, again.records_updated, again.persons) == (0, 0, 0)
    assert _imported(engine) == before

    edited = [list(r) for r in ROWS]
    edited[0][5] = "4"  # Ana changed her mind in the tool; the export says so
    changed = _run(engine, stores, mapping, _write(tmp_path / "edited.csv", edited))
    assert (changed.new, changed.updated, changed.already_imported) == (0, 1, 1)
    assert changed.records_updated == 1
    nps = [s.value for s in stores.records.history([ana])[ana].surveys if s.kind is SurveyKind.NPS]
    assert nps == [4]
    assert len(_imported(engine)) == len(before)


def _counts(engine: Engine) -> dict[str, int]:
    from sqlmodel import SQLModel

    with Session(engine) as session:
        return {
            name: int(session.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in SQLModel.metadata.tables.items()
        }


def test_a_dry_run_reports_everything_and_writes_nothing(
    engine: Engine, stores: SyncStores, mapping: Mapping, tmp_path: Path
) -> None:
    path = _write(tmp_path / "export.csv", ROWS)
    before = _counts(engine)
    dry = _run(engine, stores, mapping, path, dry_run=True)
    assert _counts(engine) == before
    assert dry.dry_run
    assert (dry.rows_read, dry.valid, dry.invalid, dry.matched) == (6, 5, 1, 2)
    assert [u.row for u in dry.unmatched] == [3, 4, 7]
    assert (dry.new, dry.already_imported) == (2, 0)
    assert dry.as_dict()["rows"]["new"] == 2
    # After the real import, a dry run of the same file sees it all imported.
    _run(engine, stores, mapping, path)
    assert _run(engine, stores, mapping, path, dry_run=True).already_imported == 2


def test_unmatched_rows_import_once_the_person_exists(
    engine: Engine, stores: SyncStores, mapping: Mapping, tmp_path: Path
) -> None:
    path = _write(tmp_path / "export.csv", ROWS)
    assert 7 in [u.row for u in _run(engine, stores, mapping, path).unmatched]
    stores.records.upsert("crm-b", [_customer("crm-b", "b9", "cuong@example.com")])
    later = _run(engine, stores, mapping, path)
    assert [u.row for u in later.unmatched] == [3, 4]
    assert (later.new, later.already_imported) == (1, 2)
    cuong = _person(stores, "crm-b", "b9")
    assert [s.value for s in stores.records.history([cuong])[cuong].surveys] == [10]


def test_erasure_takes_the_imported_answers_and_they_do_not_come_back(
    engine: Engine, stores: SyncStores, mapping: Mapping, tmp_path: Path
) -> None:
    path = _write(tmp_path / "export.csv", ROWS)
    _run(engine, stores, mapping, path)
    ana = _person(stores, "crm-a", "a1")
    assert any(row[2] == ana for row in _imported(engine))
    report = erase_customer(
        ana,
        lambda _name: None,  # connections that take no erasure writes
        ErasureStores(ErasureStore(engine), TaskLedgerRepository(engine)),
    )
    assert report.found
    assert all(customer != ana for _, _, customer, _ in _imported(engine))
    assert len(_imported(engine)) == 1  # Binh's answer stays
    # The same file again: no one holds Ana's address any more.
    again = _run(engine, stores, mapping, path)
    assert 2 in [u.row for u in again.unmatched]
    assert len(_imported(engine)) == 1


def test_the_file_must_have_the_mapped_columns(
    engine: Engine, stores: SyncStores, mapping: Mapping, tmp_path: Path
) -> None:
    path = tmp_path / "short.csv"
    path.write_text("Response,Submitted,E-mail\nr1,2026-05-02T09:00:00,a@example.com\n")
    with pytest.raises(ImportSetupError, match=r"no column 'Phone' \(respondent.phone\)"):
        _run(engine, stores, mapping, path)


def test_a_crm_id_column_needs_its_connection(
    engine: Engine, stores: SyncStores, tmp_path: Path
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING.replace("    connection: crm-a\n", ""), encoding="utf-8")
    mapping = load_mapping(path)
    export = _write(tmp_path / "export.csv", ROWS)
    with pytest.raises(ImportSetupError, match="needs the connection"):
        _run(engine, stores, mapping, export)
    # Given on the command line instead: crm-b has no record "a2", so that row is unmatched.
    report = _run(engine, stores, mapping, export, connection="crm-b")
    assert 5 in [u.row for u in report.unmatched]


def _typed(cell: str) -> object:
    """A cell as a spreadsheet or JSON would hold it: numbers and times typed."""
    if cell.isdigit():
        return int(cell)
    try:
        return datetime.fromisoformat(cell)
    except ValueError:
        return cell


def _export(path: Path, kind: str) -> Path:
    """ROWS written as `kind`."""
    if kind == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(HEADER)
        for row in ROWS:
            sheet.append([_typed(c) if c else None for c in row])
        book.save(path)
        return path
    records = [
        {
            k: (str(v) if isinstance(v, datetime) else v)
            for k, v in zip(HEADER, map(_typed, row), strict=True)
            if v != ""
        }
        for row in ROWS
    ]
    if kind == "json":
        path.write_text(json.dumps({"count": len(records), "items": records}), encoding="utf-8")
    elif kind == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    else:  # Excel's "Unicode Text": UTF-16 with a BOM, tab-separated
        with path.open("w", encoding="utf-16", newline="") as out:
            csv.writer(out, delimiter="\t").writerows([HEADER, *ROWS])
    return path


@pytest.mark.parametrize(
    ("kind", "suffix"), [("xlsx", ".xlsx"), ("json", ".json"), ("jsonl", ".jsonl"), ("csv", ".txt")]
)
def test_each_format_imports_the_same_answers(
    engine: Engine,
    stores: SyncStores,
    mapping: Mapping,
    tmp_path: Path,
    kind: str,
    suffix: str,
) -> None:
    from dataclasses import replace

    if kind == "json":
        mapping = replace(mapping, format=replace(mapping.format, records="items"))
    # Spreadsheet rows count the header; JSON records and lines count from 1.
    rows = [3, 4, 7] if kind in ("xlsx", "csv") else [2, 3, 6]
    path = _export(tmp_path / f"export{suffix}", kind)
    report = _run(engine, stores, mapping, path)
    assert (report.rows_read, report.valid, report.new) == (6, 5, 2)
    assert [u.row for u in report.unmatched] == rows
    assert len(report.problems) == 1
    # The same responses from the CSV export: the same records, nothing new.
    csv_report = _run(engine, stores, mapping, _write(tmp_path / "export.csv", ROWS))
    assert (csv_report.new, csv_report.updated, csv_report.already_imported) == (0, 0, 2)


def test_answers_follow_the_person_when_their_record_is_deleted_in_its_crm(
    engine: Engine, stores: SyncStores, mapping: Mapping, tmp_path: Path
) -> None:
    path = _write(tmp_path / "export.csv", ROWS[:1])
    _run(engine, stores, mapping, path)
    ana = _person(stores, "crm-a", "a1")
    assert {c for c, *_ in _imported(engine)} == {"crm-a"}
    stores.records.mark_deleted("crm-a", "Contact", ["a1"])  # gone from crm-a; still in crm-b
    moved = _run(engine, stores, mapping, path)
    assert moved.persons == 1
    history = stores.records.history([ana])[ana]
    assert [s.value for s in history.surveys if s.kind is SurveyKind.NPS] == [9]  # not twice
    assert len(history.interactions) == 1
    with Session(engine) as session:
        live = session.execute(
            select(CrmLink.connection)
            .where(CrmLink.crm_object == "import:acme-survey", CrmLink.deleted_at.is_(None))  # type: ignore[union-attr]
            .distinct()
        ).all()
    assert [c for (c,) in live] == ["crm-b"]
