"""How generated records land in the org: objects, links, stamps, authorship."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from sandbox.data.model import (
    Case,
    CaseComment,
    Company,
    Interaction,
    LineItem,
    Owner,
    Person,
    SurveyAnswer,
    Transaction,
)
from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.store import Record

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def emu() -> SalesforceEmulator:
    emulator = SalesforceEmulator()
    emulator.load(
        [
            Owner("o1", "Linh", "Phạm", "linh@shop.vn", "vi"),
            Company("c1", "Cửa hàng An", "an.vn", "VN", "Retail", "o1", T0, Decimal("120000.50")),
            Person(
                "p1",
                "c1",
                "An",
                "Nguyễn",
                "an@an.vn",
                "+84 90",
                "vi",
                "VN",
                "Asia/Ho_Chi_Minh",
                "o1",
                T0,
                False,
            ),
            Person(
                "p2",
                "c1",
                "Mai",
                "Trần",
                "mai@an.vn",
                "+84 91",
                "vi",
                "VN",
                "Asia/Ho_Chi_Minh",
                "o1",
                T0,
                True,
            ),
            Transaction(
                "t1",
                "p1",
                "c1",
                "opportunity",
                Decimal("300"),
                "VND",
                "lost",
                T0 + timedelta(days=1),
                (LineItem("Ấm trà", 2, Decimal("150")),),
            ),
            Transaction(
                "t2",
                "p1",
                "c1",
                "order",
                Decimal("99.90"),
                "VND",
                "won",
                T0 + timedelta(days=2),
                (),
            ),
            Interaction(
                "i1",
                "p1",
                "c1",
                "email",
                "inbound",
                "Giao hàng chậm",
                "Giao hàng quá chậm.",
                "vi",
                T0 + timedelta(days=3),
                "o1",
            ),
            Interaction(
                "i2",
                "p2",
                "c1",
                "meeting",
                "outbound",
                "Demo",
                "Gặp mặt.",
                "vi",
                T0 + timedelta(days=4),
                "o1",
            ),
            Case(
                "k1",
                "p1",
                "c1",
                "Hỏng",
                "Sản phẩm hỏng",
                "closed",
                "high",
                T0 + timedelta(days=5),
                T0 + timedelta(days=6),
                (
                    CaseComment("Vẫn hỏng", T0 + timedelta(days=5, hours=1), True),
                    CaseComment("Đã đổi", T0 + timedelta(days=6), False),
                ),
            ),
            SurveyAnswer("s1", "p1", "nps", 3, "Tệ", "vi", "delivery", T0 + timedelta(days=7)),
        ]
    )
    return emulator


def _only(emu: SalesforceEmulator, object_name: str) -> Record:
    rows = list(emu.store.rows(emu.store.schema.object(object_name)))
    assert len(rows) == 1, object_name
    return rows[0]


def _rows(emu: SalesforceEmulator, object_name: str) -> list[Record]:
    return list(emu.store.rows(emu.store.schema.object(object_name)))


def test_people_become_contacts_and_leads_with_their_owner(emu: SalesforceEmulator) -> None:
    contact, lead = _only(emu, "Contact"), _only(emu, "Lead")
    account = _only(emu, "Account")
    owner = next(u for u in _rows(emu, "User") if u["Email"] == "linh@shop.vn")
    assert contact["AccountId"] == account["Id"]
    assert contact["Name"] == "An Nguyễn"
    assert contact["Language__c"] == "vi"
    assert contact["OwnerId"] == owner["Id"]
    assert owner["LanguageLocaleKey"] == "vi"
    assert lead["Company"] == "Cửa hàng An"
    assert lead["Status"] == "Open - Not Contacted"
    assert account["AnnualRevenue"] == 120000.5
    # History keeps its own time and author, never the integration user (loop prevention).
    assert contact["CreatedDate"] == "2025-03-01T09:30:00.000+0000"
    assert contact["LastModifiedById"] == owner["Id"] != emu.integration_user_id


def test_transactions_map_to_opportunities_and_orders(emu: SalesforceEmulator) -> None:
    opportunity, order = _only(emu, "Opportunity"), _only(emu, "Order")
    assert (opportunity["StageName"], opportunity["IsClosed"], opportunity["IsWon"]) == (
        "Closed Lost",
        True,
        False,
    )
    assert opportunity["CloseDate"] == "2025-03-02"
    assert opportunity["CurrencyIsoCode"] == "VND"
    assert "2 x Ấm trà @ 150 VND" in opportunity["Description"]
    assert order["Status"] == "Activated"
    assert order["TotalAmount"] == 99.9
    assert order["BillToContactId"] == _only(emu, "Contact")["Id"]
    assert order["OrderNumber"]


def test_email_is_a_completed_task_with_its_email_message(emu: SalesforceEmulator) -> None:
    contact = _only(emu, "Contact")
    email = _only(emu, "EmailMessage")
    task = next(t for t in _rows(emu, "Task") if t["Id"] == email["ActivityId"])
    assert (task["TaskSubtype"], task["Status"], task["IsClosed"]) == ("Email", "Completed", True)
    assert task["WhoId"] == contact["Id"]
    assert task["AccountId"] == contact["AccountId"]
    assert email["Incoming"] is True
    assert (email["FromAddress"], email["ToAddress"]) == ("an@an.vn", "linh@shop.vn")
    event = _only(emu, "Event")
    assert event["WhoId"] == _only(emu, "Lead")["Id"]
    assert event.get("WhatId") is None  # a lead has no account


def test_cases_comments_and_surveys(emu: SalesforceEmulator) -> None:
    case = _only(emu, "Case")
    assert (case["Status"], case["Priority"], case["IsClosed"]) == ("Closed", "High", True)
    assert case["ClosedDate"] == "2025-03-07T09:30:00.000+0000"
    comments = sorted(_rows(emu, "CaseComment"), key=lambda c: c["CreatedDate"])
    users: dict[str, Any] = {u["Id"]: u for u in _rows(emu, "User")}
    assert [users[c["CreatedById"]]["LastName"] for c in comments] == ["Portal", "Phạm"]
    assert all(c["ParentId"] == case["Id"] for c in comments)
    survey = _only(emu, "Survey_Response__c")
    assert (survey["Survey_Type__c"], survey["Score__c"], survey["Response_Id__c"]) == (
        "NPS",
        3.0,
        "s1",
    )
    assert survey["Contact__c"] == _only(emu, "Contact")["Id"]
    assert emu.loader.report.created["CaseComment"] == 2
