"""The SOQL subset: parsing, errors in the real format, and evaluation semantics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sandbox.core.clock import SandboxClock
from sandbox.salesforce.errors import SalesforceApiError
from sandbox.salesforce.objects import standard_schema
from sandbox.salesforce.query import QueryEngine
from sandbox.salesforce.soql.ast import BoolOp, Comparison, Not
from sandbox.salesforce.soql.parser import parse
from sandbox.salesforce.store import SalesforceStore

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine() -> QueryEngine:
    clock = SandboxClock()
    clock.set(NOW)
    store = SalesforceStore(standard_schema(), clock)
    user = store.insert_trusted(
        store.schema.object("User"), {"Username": "u@x.io", "LastName": "Owner", "Email": "u@x.io"}
    )
    account = store.insert_trusted(store.schema.object("Account"), {"Name": "Acme Café"})
    contact = store.schema.object("Contact")
    rows: list[dict[str, Any]] = [
        {
            "LastName": "Nguyễn",
            "FirstName": "An",
            "Email": "an@x.vn",
            "CreatedDate": "2025-06-15T08:00:00.000+0000",
        },
        {
            "LastName": "Tamm",
            "FirstName": "Mari",
            "Email": None,
            "CreatedDate": "2025-06-10T08:00:00.000+0000",
        },
        {
            "LastName": "O'Brien",
            "FirstName": None,
            "Email": "ob@x.ie",
            "CreatedDate": "2025-05-01T08:00:00.000+0000",
        },
        {
            "LastName": "li_wei",
            "FirstName": "Wei",
            "Email": "LI@x.cn",
            "CreatedDate": "2024-12-31T23:59:59.000+0000",
        },
    ]
    for row in rows:
        store.insert_trusted(contact, {**row, "AccountId": account, "OwnerId": user})
    return QueryEngine(store)


def run(engine: QueryEngine, soql: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = engine.run(soql, include_deleted=False, version="59.0")[
        "records"
    ]
    return records


def last_names(engine: QueryEngine, where: str, order: str = "") -> list[str]:
    rows = run(engine, f"SELECT LastName FROM Contact WHERE {where} {order}")
    return [r["LastName"] for r in rows]


def test_parser_builds_nested_conditions() -> None:
    query = parse(
        "SELECT Id, Account.Name FROM Contact WHERE (Email = null OR NOT LastName LIKE 'a%') "
        "AND CreatedDate >= LAST_N_DAYS:7 ORDER BY LastName DESC NULLS FIRST LIMIT 5 OFFSET 1"
    )
    assert [f.text for f in query.fields] == ["Id", "Account.Name"]
    assert isinstance(query.where, BoolOp)
    assert query.where.op == "AND"
    first, second = query.where.items
    assert isinstance(first, BoolOp)
    assert first.op == "OR"
    assert isinstance(first.items[1], Not)
    assert isinstance(second, Comparison)
    assert second.values[0].n == 7
    assert query.order_by[0].descending
    assert not query.order_by[0].nulls_last
    assert (query.limit, query.offset) == (5, 1)


@pytest.mark.parametrize(
    ("soql", "column", "token"),
    [
        ("SELECT Id FROM", 15, "<EOF>"),
        ("SELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3", 46, "OR"),
        ("SELECT Id FROM Contact WHERE LastName = 'x' LIMIT x", 51, "x"),
        ("SELECT Id, FROM Contact", 12, "FROM"),
    ],
)
def test_syntax_errors_say_where(soql: str, column: int, token: str) -> None:
    with pytest.raises(SalesforceApiError) as caught:
        parse(soql)
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert f"ERROR at Row:1:Column:{column}" in caught.value.message
    assert f"unexpected token: '{token}'" in caught.value.message


def test_absurd_nesting_is_a_malformed_query_not_a_crash() -> None:
    deep = "SELECT Id FROM Contact WHERE " + "(" * 5000 + "LastName = 'x'" + ")" * 5000
    with pytest.raises(SalesforceApiError) as caught:
        parse(deep)
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert "nested too deeply" in caught.value.message


def test_unknown_field_type_and_wrong_literal_type(engine: QueryEngine) -> None:
    cases = [
        ("SELECT Nope FROM Contact", "INVALID_FIELD", "No such column 'Nope' on entity 'Contact'"),
        ("SELECT Account.Nope FROM Contact", "INVALID_FIELD", "Account.Nope"),
        ("SELECT Id FROM Contacts", "INVALID_TYPE", "sObject type 'Contacts' is not supported"),
        ("SELECT Id FROM Contact WHERE CreatedDate > '2024-01-01'", "INVALID_FIELD", "dateTime"),
        ("SELECT Id FROM Contact WHERE LastName = 5", "INVALID_FIELD", "enclosed in quotes"),
        ("SELECT Id FROM Contact WHERE Id = 'abc'", "INVALID_QUERY_FILTER_OPERATOR", "abc"),
        ("SELECT FIELDS(ALL) FROM Contact", "MALFORMED_QUERY", "LIMIT of at most 200"),
    ]
    for soql, code, text in cases:
        with pytest.raises(SalesforceApiError) as caught:
            run(engine, soql)
        assert caught.value.error_code == code, soql
        assert text in caught.value.message, soql


def test_text_comparison_is_case_insensitive_and_like_has_wildcards(engine: QueryEngine) -> None:
    assert last_names(engine, "LastName = 'TAMM'") == ["Tamm"]
    assert last_names(engine, "Email LIKE '%@X.%'", "ORDER BY LastName") == [
        "li_wei",
        "Nguyễn",
        "O'Brien",
    ]
    assert last_names(engine, "LastName LIKE 'li\\_%'") == ["li_wei"]
    assert last_names(engine, "LastName LIKE 'o\\'b%'") == ["O'Brien"]
    assert last_names(engine, "LastName IN ('tamm', 'NGUYỄN')") == ["Nguyễn", "Tamm"]


def test_null_semantics(engine: QueryEngine) -> None:
    assert last_names(engine, "Email = null") == ["Tamm"]
    assert last_names(engine, "Email != null") == ["Nguyễn", "O'Brien", "li_wei"]
    # != and NOT IN keep rows whose value is null, like SOQL.
    assert "Tamm" in last_names(engine, "Email != 'an@x.vn'")
    assert "O'Brien" in last_names(engine, "FirstName NOT IN ('An')")
    assert "O'Brien" not in last_names(engine, "FirstName IN ('An', 'Mari', 'Wei')")


def test_datetimes_and_date_literals(engine: QueryEngine) -> None:
    assert last_names(engine, "CreatedDate >= 2025-06-10T08:00:00Z") == ["Nguyễn", "Tamm"]
    # 09:59:59+02:00 is 07:59:59 UTC: one second before Tamm was created.
    assert last_names(engine, "CreatedDate > 2025-06-10T09:59:59+02:00") == ["Nguyễn", "Tamm"]
    assert last_names(engine, "CreatedDate > 2025-06-10T10:00:00+02:00") == ["Nguyễn"]
    assert last_names(engine, "CreatedDate = TODAY") == ["Nguyễn"]
    assert last_names(engine, "CreatedDate = LAST_N_DAYS:7") == ["Nguyễn", "Tamm"]
    assert last_names(engine, "CreatedDate < THIS_YEAR") == ["li_wei"]
    assert last_names(engine, "CreatedDate = LAST_MONTH") == ["O'Brien"]


def test_order_by_nulls_and_direction(engine: QueryEngine) -> None:
    rows = run(engine, "SELECT FirstName FROM Contact ORDER BY FirstName")
    assert [r["FirstName"] for r in rows] == [None, "An", "Mari", "Wei"]
    rows = run(engine, "SELECT FirstName FROM Contact ORDER BY FirstName DESC")
    assert [r["FirstName"] for r in rows] == ["Wei", "Mari", "An", None]
    rows = run(engine, "SELECT FirstName FROM Contact ORDER BY FirstName ASC NULLS LAST LIMIT 2")
    assert [r["FirstName"] for r in rows] == ["An", "Mari"]


def test_relationship_fields_subquery_and_count(engine: QueryEngine) -> None:
    rows = run(
        engine, "SELECT Name, Account.Name, Owner.LastName FROM Contact WHERE LastName = 'Tamm'"
    )
    assert rows[0]["Name"] == "Mari Tamm"
    assert rows[0]["Account"]["Name"] == "Acme Café"
    assert rows[0]["Account"]["attributes"]["type"] == "Account"
    assert rows[0]["Owner"]["LastName"] == "Owner"
    rows = run(
        engine,
        "SELECT Name, (SELECT LastName FROM Contacts WHERE Email != null "
        "ORDER BY LastName LIMIT 2) FROM Account",
    )
    nested = rows[0]["Contacts"]
    assert nested["totalSize"] == 2
    assert [r["LastName"] for r in nested["records"]] == ["li_wei", "Nguyễn"]
    body = engine.run(
        "SELECT COUNT() FROM Contact WHERE Email != null", include_deleted=False, version="59.0"
    )
    assert (body["totalSize"], body["records"]) == (3, [])


def test_filter_through_a_relationship(engine: QueryEngine) -> None:
    assert len(last_names(engine, "Account.Name LIKE 'acme%'")) == 4
    assert last_names(engine, "Account.Name = 'other'") == []


def test_semi_join_on_ids(engine: QueryEngine) -> None:
    store = engine.store
    contacts = {r["LastName"]: r["Id"] for r in store.rows(store.schema.object("Contact"))}
    task = store.schema.object("Task")
    store.insert_trusted(
        task, {"WhoId": contacts["Tamm"], "Subject": "Call", "Status": "Completed"}
    )
    store.insert_trusted(task, {"WhoId": contacts["li_wei"], "Subject": "Mail"})
    assert last_names(engine, "Id IN (SELECT WhoId FROM Task WHERE Status = 'completed')") == [
        "Tamm"
    ]
    assert last_names(engine, "Id NOT IN (SELECT WhoId FROM Task)") == ["Nguyễn", "O'Brien"]
    for bad in (
        "LastName IN (SELECT WhoId FROM Task)",
        "Id IN (SELECT Subject FROM Task)",
        "Id IN (SELECT WhoId, Subject FROM Task)",
    ):
        with pytest.raises(SalesforceApiError):
            last_names(engine, bad)


def test_aggregates_with_and_without_group_by(engine: QueryEngine) -> None:
    body = engine.run(
        "SELECT MAX(CreatedDate) latest, MIN(CreatedDate), COUNT(Email), COUNT_DISTINCT(AccountId) "
        "FROM Contact",
        include_deleted=False,
        version="59.0",
    )
    assert body["totalSize"] == 1
    row = body["records"][0]
    assert row["attributes"] == {"type": "AggregateResult"}
    assert row["latest"] == "2025-06-15T08:00:00.000+0000"
    assert row["expr0"] == "2024-12-31T23:59:59.000+0000"
    assert (row["expr1"], row["expr2"]) == (3, 1)
    grouped = run(
        engine,
        "SELECT FirstName, COUNT(Id) n FROM Contact WHERE LastName != 'Tamm' "
        "GROUP BY FirstName ORDER BY FirstName DESC",
    )
    assert [(r["FirstName"], r["n"]) for r in grouped] == [("Wei", 1), ("An", 1), (None, 1)]
    empty = run(engine, "SELECT COUNT(Id) FROM Contact WHERE LastName = 'nobody'")
    assert empty[0]["expr0"] == 0


def test_aggregate_mistakes_are_malformed_queries(engine: QueryEngine) -> None:
    for soql, text in (
        ("SELECT LastName, COUNT(Id) FROM Contact", "must be grouped or aggregated"),
        ("SELECT SUM(LastName) FROM Contact", "does not support aggregate operator SUM"),
        ("SELECT COUNT(Id) FROM Contact ORDER BY LastName", "Ordered field"),
    ):
        with pytest.raises(SalesforceApiError) as caught:
            run(engine, soql)
        assert text in caught.value.message, soql
