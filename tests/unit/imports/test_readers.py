"""Reading exports: CSV in the encodings and delimiters Excel and the tools write, two header
rows, XLSX (read-only, first or named sheet, typed cells), JSON arrays and JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from service.imports.mapping import FileFormat
from service.imports.readers import FileError, Table, open_table

HEADER = ["id", "Điểm NPS", "Bình luận"]
ROWS = [["r1", "9", "Giao hàng nhanh, 很好"], ["r2", "3", "Trễ quá"]]


def _rows(table: Table) -> list[tuple[int, dict[str, object]]]:
    return [(row.number, dict(row.cells)) for row in table.rows]


def _csv(delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([HEADER, *ROWS])  # quotes as Excel does
    return out.getvalue()


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [
        ("utf-8", ","),
        ("utf-8-sig", ","),  # Excel's "CSV UTF-8": a byte-order mark first
        ("utf-16", "\t"),  # Excel's "Unicode Text": UTF-16 with a BOM, tab-separated
        ("utf-8", ";"),  # a comma-decimal locale's Excel
    ],
)
def test_csv_encoding_and_delimiter_are_sniffed(
    tmp_path: Path, encoding: str, delimiter: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(_csv(delimiter).encode(encoding))
    table = open_table(path, FileFormat())
    assert table.columns == HEADER  # no BOM left on the first name
    assert _rows(table) == [(2, dict(zip(HEADER, ROWS[0], strict=True))),
                            (3, dict(zip(HEADER, ROWS[1], strict=True)))]  # fmt: skip


def test_a_legacy_code_page_is_read_when_the_bytes_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("id,comment\r\nr1,Très bien à bientôt\r\n".encode("cp1252"))
    assert _rows(open_table(path, FileFormat()))[0][1]["comment"] == "Très bien à bientôt"


def test_the_mapping_may_name_encoding_and_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_bytes("id|note\nr1|a,b;c\n".encode("latin-1"))
    table = open_table(path, FileFormat(encoding="latin-1", delimiter="|"))
    assert _rows(table) == [(2, {"id": "r1", "note": "a,b;c"})]
    with pytest.raises(FileError, match="unknown encoding"):
        open_table(path, FileFormat(encoding="klingon"))


def test_two_header_rows_name_columns_question_slash_option(tmp_path: Path) -> None:
    path = tmp_path / "sm.csv"
    path.write_text(
        "Respondent ID,Email Address,Which did you use?,,How likely?\n"
        ",,Phone,Chat,Response\n"
        "1001,a@example.org,Phone,,9\n"
        ",,,,\n",  # Excel's trailing blank line
        encoding="utf-8",
    )
    table = open_table(path, FileFormat(header_rows=2))
    assert table.columns == [
        "Respondent ID",
        "Email Address",
        "Which did you use? / Phone",
        "Which did you use? / Chat",  # the question carried over its blank cells
        "How likely? / Response",
    ]
    assert [number for number, _ in _rows(table)] == [3]


def test_repeated_column_names_stay_apart(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("id,score,score\nr1,1,2\n", encoding="utf-8")
    table = open_table(path, FileFormat())
    assert table.columns == ["id", "score", "score (2)"]


def test_xlsx_first_or_named_sheet_with_typed_cells(tmp_path: Path) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Summary"
    first.append(["nothing here"])
    sheet = book.create_sheet("Responses")
    sheet.append(["#", "Submit Date (UTC)", "NPS", "Phone"])
    sheet.append(["t1", datetime(2026, 5, 4, 8, 1, 30), 8, 84901234567])
    path = tmp_path / "typeform.xlsx"
    book.save(path)
    assert open_table(path, FileFormat()).columns == ["nothing here"]
    table = open_table(path, FileFormat(sheet="Responses"))
    assert table.columns == ["#", "Submit Date (UTC)", "NPS", "Phone"]
    ((number, cells),) = _rows(table)
    assert number == 2
    assert cells["Submit Date (UTC)"] == datetime(2026, 5, 4, 8, 1, 30)
    assert cells["NPS"] == 8
    with pytest.raises(FileError, match="no sheet 'Answers' \\(sheets: Summary, Responses\\)"):
        open_table(path, FileFormat(sheet="Answers"))


def test_a_file_that_is_not_xlsx_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("id,score\n", encoding="utf-8")
    with pytest.raises(FileError, match="not an XLSX workbook"):
        open_table(path, FileFormat())


def test_json_array_keyed_array_and_nested_answers(tmp_path: Path) -> None:
    records = [{"id": "a", "answers": {"nps": 9, "why": "ok"}}, {"id": "b", "answers": {}}]
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(records), encoding="utf-8")
    keyed = tmp_path / "keyed.json"
    keyed.write_text(json.dumps({"total": 2, "items": records}), encoding="utf-8")
    for table in (open_table(plain, FileFormat()), open_table(keyed, FileFormat(records="items"))):
        assert table.columns == ["id", "answers.nps", "answers.why"]
        assert _rows(table)[0] == (1, {"id": "a", "answers.nps": 9, "answers.why": "ok"})
        assert table.unit == "record"
    with pytest.raises(FileError, match=r"name its key in format\.records"):
        open_table(keyed, FileFormat())
    with pytest.raises(FileError, match="no array under the key 'responses'"):
        open_table(keyed, FileFormat(records="responses"))


def test_json_lines_report_a_bad_line_and_keep_the_others(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text('{"id": "a"}\n{"id": \n\n[1, 2]\n{"id": "b"}\n', encoding="utf-8")
    rows = list(open_table(path, FileFormat()).rows)
    assert [(r.number, r.problem) for r in rows] == [
        (1, None),
        (2, rows[1].problem),
        (4, "not a JSON object"),
        (5, None),
    ]
    assert rows[1].problem is not None
    assert rows[1].problem.startswith("not a JSON line")


def test_unknown_format_missing_file_and_broken_json_are_file_errors(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="cannot tell the format"):
        open_table(tmp_path / "export.sav", FileFormat())
    with pytest.raises(FileError, match="no such file"):
        open_table(tmp_path / "missing.csv", FileFormat())
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    with pytest.raises(FileError, match=r"broken.json:1: not JSON"):
        open_table(broken, FileFormat())
