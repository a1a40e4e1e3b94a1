"""Hostile values reaching SOQL stay one literal: proved against the Salesforce sandbox's own SOQL
parser through the real client (simple-salesforce over HTTPS).

Every place a value enters SOQL goes through `adapters.salesforce.soql.literal()` (the reader's
get-by-id, the cursor's timestamp, the writer's task keys); mapping `where` clauses are written
by the admin, never built from data, and must be self-contained (`soql.condition()`).
Each hostile value is stored as a contact's last name, then queried back: exactly that one
contact returns, never extra rows and never a parse error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from adapters.mapping import MappingSet, load_mappings
from adapters.salesforce import soql
from adapters.salesforce.client import run_query
from adapters.salesforce.reader import SalesforceReader
from service.ports import CrmConfigError
from tests.contract.harness import SalesforceHarness
from tests.fuzz.report import TARGETED

HOSTILE = [
    "O'Brien",
    "' OR Id != '",
    "x' OR LastName != 'x",
    "') OR (Id != null",
    "\\",
    "\\'",
    "a\\' OR Id != \\'",
    '"quoted"',
    "%",
    "_",
    "a%b_c",
    "100%_off",
    "line\nbreak",
    "carriage\rreturn\r\n",
    "tab\there",
    "\b\f",
    "'; DELETE FROM Contact; --",
    "Nguyễn Thị Lan ' 张伟",
]
NEVER_STORED = ["' OR '1'='1", "%%", "_%", "\\\\", "' OR LastName LIKE '%"]


@pytest.fixture(scope="module")
def crm() -> Iterator[tuple[SalesforceHarness, dict[str, str]]]:
    with SalesforceHarness(10, 100) as harness:
        sdk = harness._sdk()
        created = {value: str(sdk.Contact.create({"LastName": value})["id"]) for value in HOSTILE}
        yield harness, created


def _query(harness: SalesforceHarness, query: str) -> list[dict[str, Any]]:
    TARGETED[__name__.replace(".", "/") + ".py"] += 1
    page: dict[str, Any] = harness.client().call(partial(run_query, query=query))
    assert page.get("done", True), "one page is plenty for these queries"
    return list(page["records"])


@pytest.mark.parametrize("value", HOSTILE, ids=[repr(v) for v in HOSTILE])
def test_a_stored_hostile_value_matches_only_itself(
    crm: tuple[SalesforceHarness, dict[str, str]], value: str
) -> None:
    harness, created = crm
    where = f"LastName = {soql.literal(value)}"
    rows = _query(harness, soql.select(["Id", "LastName"], "Contact", where))
    assert [(r["Id"], r["LastName"]) for r in rows] == [(created[value], value)]
    # The same value in an IN list (the shape get-by-id uses).
    rows = _query(harness, soql.select(["Id"], "Contact", f"LastName IN {soql.in_list([value])}"))
    assert [r["Id"] for r in rows] == [created[value]]


@pytest.mark.parametrize("value", NEVER_STORED, ids=[repr(v) for v in NEVER_STORED])
def test_a_hostile_value_never_stored_matches_nothing(
    crm: tuple[SalesforceHarness, dict[str, str]], value: str
) -> None:
    harness, _ = crm
    everyone = _query(harness, "SELECT Id FROM Contact")
    assert len(everyone) > len(HOSTILE)  # the control: rows exist to leak
    where = f"LastName = {soql.literal(value)}"
    assert _query(harness, soql.select(["Id"], "Contact", where)) == []


def test_get_by_id_with_hostile_ids_reads_only_real_records(
    crm: tuple[SalesforceHarness, dict[str, str]],
) -> None:
    harness, created = crm
    reader = harness.reader()
    assert isinstance(reader, SalesforceReader)
    stream = harness.customer_stream()
    real = created["O'Brien"]
    hostile_ids = [*HOSTILE, *NEVER_STORED, real[:15] + "' OR", real + "'", "0" * 19, ""]
    found = reader.get(stream, [*hostile_ids, real])
    assert [r.source.crm_id for r in found if r.source] == [real]
    # Regression: ids not shaped like Salesforce ids never reach the query (Salesforce answers
    # INVALID_QUERY_FILTER_OPERATOR for them, which made a caller's bad id a CRM failure).
    assert reader.get(stream, hostile_ids) == []


def test_no_soql_is_built_with_like_or_string_formatting_of_values() -> None:
    """LIKE would need `%` and `_` escaped too (literal() does not): none is used. Every SOQL
    statement in the adapters is built by soql.select() with literal()/in_list() values."""
    root = Path(__file__).resolve().parents[2] / "adapters"
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bLIKE\b", text), f"{path}: LIKE needs %/_ escaping first"
        for line in text.splitlines():
            if re.search(r"f[\"'].*\b(SELECT|WHERE)\b", line) and path.name != "soql.py":
                assert "soql." in line or "{MODSTAMP}" in line, f"{path}: {line.strip()}"


SAFE_WHERES = [
    "TaskSubtype != 'Email'",
    "ActivityId != null",
    "Name = 'Order by (limit)' AND (Amount > 5 OR Amount < 1)",
    "Id IN (SELECT ContactId FROM Case ORDER BY CreatedDate LIMIT 5)",
    "Description = 'it\\'s; fine'",
]
ESCAPING_WHERES = [
    "Amount > 5) OR (Id != null",
    "Name = 'open",
    "Amount > 5 ORDER BY Name",
    "Amount > 5 LIMIT 1",
    "Amount > 5; DELETE",
    ")(",
    "Name = 'x\\'",
]


@pytest.mark.parametrize("where", SAFE_WHERES)
def test_a_self_contained_where_is_kept(where: str) -> None:
    assert soql.condition(where) == where


@pytest.mark.parametrize("where", ESCAPING_WHERES)
def test_a_where_that_could_escape_its_parentheses_is_refused(
    crm: tuple[SalesforceHarness, dict[str, str]], where: str
) -> None:
    """A mapping's `where` is wrapped as `... AND (<where>) ORDER BY ...`; one that closes the
    parenthesis or adds a clause would drop the cursor condition from every incremental pull."""
    with pytest.raises(ValueError, match=r"condition|parenthes|string"):
        soql.condition(where)
    harness, _ = crm
    mappings = load_mappings()
    broken = MappingSet(
        tuple(
            replace(m, where=where) if (m.crm, m.object) == ("salesforce", "Contact") else m
            for m in mappings.mappings
        )
    )
    with pytest.raises(CrmConfigError, match="mapping Contact: `where`"):
        SalesforceReader(harness.client(), broken, timedelta(seconds=60))
