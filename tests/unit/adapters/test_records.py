"""CRM records become canonical models through the shipped mappings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from adapters.mapping import load_mappings
from adapters.records import RecordRefusedError, build_record, read_path
from service.domain import Case, CaseStatus, Customer, Interaction, SurveyResponse, Transaction

MAPPINGS = load_mappings()


def test_salesforce_contact() -> None:
    raw = {
        "attributes": {"type": "Contact"},
        "Id": "003000000000001AAA",
        "Name": "Nguyễn Thị Lan",
        "Email": "lan@saomai.vn",
        "AccountId": "001000000000001AAA",
        "OwnerId": "005000000000001AAA",
        "Language__c": "vi",
        "CreatedDate": "2025-02-01T08:00:00.000+0000",
        "SystemModstamp": "2026-03-01T12:30:00.000+0000",
    }
    customer = build_record(
        MAPPINGS.get("salesforce", "Contact"), raw, connection="sf", crm_id=raw["Id"]
    )
    assert isinstance(customer, Customer)
    assert customer.id == raw["Id"]
    assert customer.language == "vi"
    assert customer.created_at == datetime(2025, 2, 1, 8, tzinfo=UTC)
    assert customer.source is not None
    assert (customer.source.connection, customer.source.crm_object) == ("sf", "Contact")


def test_salesforce_case_with_value_maps() -> None:
    raw = {
        "Id": "500000000000001AAA",
        "ContactId": "003000000000001AAA",
        "Subject": "Giao hàng chậm",
        "Status": "Closed",
        "Priority": "High",
        "CreatedDate": "2026-03-01T12:30:00.000+0000",
        "ClosedDate": "2026-03-03T09:00:00.000+0000",
    }
    case = build_record(MAPPINGS.get("salesforce", "Case"), raw, connection="sf", crm_id=raw["Id"])
    assert isinstance(case, Case)
    assert case.status is CaseStatus.CLOSED
    assert case.priority.value == "high"


def test_hubspot_strings_and_constants() -> None:
    props = {
        "hs_object_id": "901",
        "amount": "1250.50",
        "deal_currency_code": "EUR",
        "closedate": "2026-02-10T00:00:00Z",
        "dealstage": "closedwon",
    }
    # HubSpot has no contact field on deals: the adapter adds the associated contact's id.
    mapping = replace(
        MAPPINGS.get("hubspot", "deals"),
        constants=(*MAPPINGS.get("hubspot", "deals").constants, ("customer_id", "101")),
    )
    deal = build_record(mapping, props, connection="hs", crm_id="901")
    assert isinstance(deal, Transaction)
    assert (deal.amount, deal.currency, deal.status.value, deal.kind.value) == (
        1250.5,
        "EUR",
        "won",
        "deal",
    )


def test_survey_answer() -> None:
    raw = {
        "Id": "a0B000000000001AAA",
        "Contact__c": "003000000000001AAA",
        "Survey_Type__c": "NPS",
        "Score__c": 3,
        "Comment__c": "Giao hàng quá chậm",
        "Responded_At__c": "2026-03-01T12:30:00.000+0000",
    }
    answer = build_record(
        MAPPINGS.get("salesforce", "Survey_Response__c"), raw, connection="sf", crm_id=raw["Id"]
    )
    assert isinstance(answer, SurveyResponse)
    assert answer.value == 3.0


def test_refusals_name_fields_not_values() -> None:
    task = MAPPINGS.get("salesforce", "Task")
    with pytest.raises(RecordRefusedError, match="Id is empty"):
        build_record(task, {"Subject": "x"}, connection="sf", crm_id="00T1")
    # A task with no contact (WhoId) cannot be an interaction of a customer.
    with pytest.raises(RecordRefusedError, match="customer_id") as caught:
        build_record(
            task,
            {"Id": "00T1", "Subject": "secret subject", "ActivityDate": "2026-03-01"},
            connection="sf",
            crm_id="00T1",
        )
    assert "secret subject" not in str(caught.value)


def test_optional_field_with_unknown_value_is_left_out() -> None:
    raw = {"Id": "00T2", "WhoId": "003A", "ActivityDate": "2026-03-01", "TaskSubtype": "Fax"}
    with pytest.raises(RecordRefusedError, match="channel"):
        # channel is required by the domain; an unmapped subtype leaves it empty.
        build_record(MAPPINGS.get("salesforce", "Task"), raw, connection="sf", crm_id="00T2")
    raw["TaskSubtype"] = "Call"
    interaction = build_record(
        MAPPINGS.get("salesforce", "Task"), raw, connection="sf", crm_id="00T2"
    )
    assert isinstance(interaction, Interaction)
    assert interaction.occurred_at == datetime(2026, 3, 1, tzinfo=UTC)


def test_read_path_follows_relationships() -> None:
    record = {"Account": {"attributes": {}, "Name": "Acme"}, "Owner": None}
    assert read_path(record, "Account.Name") == "Acme"
    assert read_path(record, "Owner.Name") is None
    assert read_path(record, "Missing") is None
