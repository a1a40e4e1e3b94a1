"""SOQL building: quoting that injection cannot escape."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.salesforce.soql import identifier, in_list, literal, select


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (3, "3"),
        (2.5, "2.5"),
        ("O'Brien", r"'O\'Brien'"),
        ("a\\b", r"'a\\b'"),
        ("line\nbreak", r"'line\nbreak'"),
        ("' OR Name != '", r"'\' OR Name != \''"),
        (datetime(2026, 3, 1, 19, 30, tzinfo=timezone(timedelta(hours=7))), "2026-03-01T12:30:00Z"),
        (date(2026, 3, 1), "2026-03-01"),
    ],
)
def test_literals(value: object, expected: str) -> None:
    assert literal(value) == expected  # type: ignore[arg-type]


@given(st.text())
def test_a_quoted_string_never_ends_early(text: str) -> None:
    quoted = literal(text)
    inner = quoted[1:-1]
    assert quoted[0] == quoted[-1] == "'"
    # Every quote inside is escaped: scanning escapes, no bare quote remains.
    i = 0
    while i < len(inner):
        if inner[i] == "\\":
            i += 2
            continue
        assert inner[i] not in "'\n\r", "an unescaped quote or line break would end the literal"
        i += 1


@pytest.mark.parametrize("name", ["Name; DELETE", "Id FROM User --", "", "1Field", "a..b", "Name'"])
def test_identifiers_are_checked(name: str) -> None:
    with pytest.raises(ValueError, match="API name"):
        identifier(name)


def test_select_statement() -> None:
    since = datetime(2026, 3, 1, tzinfo=UTC)
    emails = ["a@x.vn", "b'@x.vn"]
    query = select(
        ["Id", "Name", "Account.Name"],
        "Contact",
        where=f"SystemModstamp >= {literal(since)} AND Email IN {in_list(emails)}",
        order_by=["SystemModstamp", "Id"],
        limit=10,
    )
    assert query == (
        "SELECT Id, Name, Account.Name FROM Contact WHERE SystemModstamp >= 2026-03-01T00:00:00Z"
        " AND Email IN ('a@x.vn', 'b\\'@x.vn') ORDER BY SystemModstamp ASC, Id ASC LIMIT 10"
    )


def test_naive_datetime_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        literal(datetime(2026, 1, 1))
