"""One row read as the mapping says: scores by number or label, the time in the mapping's zone,
the id from one column or a hash of several; every problem named by row and column, quoting
scores and times but never contact details or comments."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from service.imports.mapping import Mapping, load_mapping
from service.imports.readers import Row
from service.imports.rows import Problem, Response, read_row

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MAPPING = """\
tool: acme
response_id:
  columns: [when, mail]
submitted_at:
  column: when
  format: "%d.%m.%Y %H:%M"
  timezone: Asia/Ho_Chi_Minh
respondent:
  email: mail
  phone: phone
questions:
  - name: csat
    kind: csat
    column: sat
    labels: {Rất hài lòng: 5, Hài lòng: 4}
  - name: ces
    kind: ces
    column: effort
  - name: note
    kind: comment
    column: note
    about: csat
"""


@pytest.fixture
def mapping(tmp_path: Path) -> Mapping:
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return load_mapping(path)


def _row(**cells: object) -> Row:
    base: dict[str, object] = {"when": "02.05.2026 09:30", "mail": "an@example.vn"}
    return Row(7, {**base, **cells})


def test_labels_numbers_and_the_time_zone(mapping: Mapping) -> None:
    found = read_row(mapping, _row(sat=" rất HÀI LÒNG ", effort="6", note="Tốt"), NOW)
    assert isinstance(found, Response)
    assert [(a.question.name, a.value) for a in found.answers] == [("csat", 5.0), ("ces", 6.0)]
    assert [c.text for c in found.comments] == ["Tốt"]
    assert found.submitted_at == datetime(2026, 5, 2, 9, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert found.submitted_at.utcoffset() is not None
    # The id is a hash of the named columns: stable, and different for another respondent.
    again = read_row(mapping, _row(sat="4"), NOW)
    other = read_row(mapping, _row(sat="4", mail="binh@example.vn"), NOW)
    assert isinstance(again, Response)
    assert isinstance(other, Response)
    assert again.response_id == found.response_id != other.response_id


def test_spreadsheet_cells_keep_their_types(mapping: Mapping) -> None:
    found = read_row(
        mapping, _row(when=datetime(2026, 5, 2, 9, 30), sat=4.0, phone=84901234567.0), NOW
    )
    assert isinstance(found, Response)
    assert found.phone == "84901234567"  # not "84901234567.0"
    assert found.submitted_at.tzinfo == ZoneInfo("Asia/Ho_Chi_Minh")


def test_every_problem_of_a_row_is_named_by_row_and_column(mapping: Mapping) -> None:
    found = read_row(mapping, _row(when="2026-05-02", sat="Meh", effort="9", note="secret"), NOW)
    assert isinstance(found, list)
    assert [str(p) for p in found] == [
        "row 7: column 'when': '2026-05-02' is not a time in %d.%m.%Y %H:%M",
        "row 7: column 'sat': 'Meh' is not a number or a known label",
        "row 7: column 'effort': '9' is outside the scale 1-7",
    ]
    assert not any("an@example.vn" in str(p) or "secret" in str(p) for p in found)


def test_missing_id_time_and_answers(mapping: Mapping) -> None:
    found = read_row(mapping, Row(3, {"when": "", "mail": None, "sat": ""}), NOW)
    assert found == [
        Problem(3, "when, mail", "no response id"),
        Problem(3, "when", "no submission time"),
    ]
    empty = read_row(mapping, _row(), NOW)
    assert empty == [Problem(7, None, "no mapped question is answered")]


def test_times_before_1970_or_in_the_future_are_refused(mapping: Mapping) -> None:
    past = read_row(mapping, _row(when="01.01.1960 00:00", sat="4"), NOW)
    future = read_row(mapping, _row(when="01.01.2030 00:00", sat="4"), NOW)
    assert isinstance(past, list)
    assert "before 1970" in past[0].problem
    assert isinstance(future, list)
    assert "in the future" in future[0].problem


def test_a_row_the_reader_could_not_read_is_one_problem(mapping: Mapping) -> None:
    found = read_row(mapping, Row(4, {}, "not a JSON line (Expecting value)"), NOW)
    assert found == [Problem(4, None, "not a JSON line (Expecting value)")]
