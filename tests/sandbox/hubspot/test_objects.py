"""Exact success codes and HubSpot error bodies, seen through the real client.

The client picks its return model by status code: a wrong code makes it return None
(docs/crm-api-facts.md §1.3), so "the call returned a model" is the check that the code was right.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import AssociationSpec
from hubspot.crm.companies import ApiException as CompaniesApiException
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from hubspot.crm.objects.tasks import ApiException as TasksApiException
from hubspot.crm.objects.tasks import SimplePublicObjectInputForCreate as ObjectCreate
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate
from hubspot.crm.tickets import ApiException as TicketsApiException

from tests.sandbox.hubspot.conftest import Served


def _body(error: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    return body


def _contact(client: HubSpot, email: str, **props: str) -> str:
    created = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": email, **props})
    )
    assert created is not None  # 201 is what the client maps to a model
    return str(created.id)


def test_create_read_update_archive_round_trip(client: HubSpot) -> None:
    api = client.crm.contacts.basic_api
    contact_id = _contact(client, "Lan.Nguyen@Example.vn", firstname="Lan")

    read = api.get_by_id(contact_id, properties=["email", "firstname", "phone"])
    assert read.properties == {"email": "lan.nguyen@example.vn", "firstname": "Lan", "phone": None}
    assert read.created_at is not None
    assert read.archived is False

    updated = api.update(contact_id, SimplePublicObjectInput(properties={"phone": "+84 28 1234"}))
    assert updated is not None
    assert updated.properties["phone"] == "+84 28 1234"
    by_email = api.get_by_id("LAN.NGUYEN@example.vn", id_property="email", properties=["phone"])
    assert by_email.id == contact_id
    assert by_email.properties["phone"] == "+84 28 1234"

    assert api.archive(contact_id) is None
    with pytest.raises(ContactsApiException) as raised:
        api.get_by_id(contact_id)
    assert raised.value.status == 404
    body = _body(raised.value)
    assert body["category"] == "OBJECT_NOT_FOUND"
    assert body["status"] == "error"
    assert body["correlationId"]
    assert body["message"]


def test_history_records_each_change_newest_first(client: HubSpot) -> None:
    api = client.crm.contacts.basic_api
    contact_id = _contact(client, "kadri@example.ee", lastname="Tamm")
    api.update(contact_id, SimplePublicObjectInput(properties={"lastname": "Kask"}))
    read = api.get_by_id(contact_id, properties_with_history=["lastname"])
    assert [v.value for v in read.properties_with_history["lastname"]] == ["Kask", "Tamm"]


def test_duplicate_email_is_409_with_the_existing_id(client: HubSpot) -> None:
    first = _contact(client, "wei@example.cn")
    with pytest.raises(ContactsApiException) as raised:
        _contact(client, "WEI@example.cn")
    assert raised.value.status == 409
    body = _body(raised.value)
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {first}"


def test_unknown_and_malformed_properties_are_400_listing_each(client: HubSpot) -> None:
    with pytest.raises(ContactsApiException) as raised:
        client.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties={
                    "email": "a@b.c",
                    "favourite_colour": "blue",
                    "associatedcompanyid": "x",
                }
            )
        )
    assert raised.value.status == 400
    body = _body(raised.value)
    assert body["category"] == "VALIDATION_ERROR"
    codes = {e["context"]["propertyName"][0]: e["code"] for e in body["errors"]}
    assert codes == {
        "favourite_colour": "PROPERTY_DOESNT_EXIST",
        "associatedcompanyid": "INVALID_DOUBLE",
    }
    assert body["message"].startswith("Property values were not valid: ")


def test_task_needs_hs_timestamp_and_links_inline_to_a_contact(hs: Served, client: HubSpot) -> None:
    contact_id = _contact(client, "ops@example.com")
    tasks = client.crm.objects.tasks.basic_api
    with pytest.raises(TasksApiException) as raised:
        tasks.create(ObjectCreate(properties={"hs_task_subject": "Call back"}))
    assert raised.value.status == 400
    assert _body(raised.value)["errors"][0]["code"] == "REQUIRED_PROPERTY"

    task = tasks.create(
        ObjectCreate(
            properties={
                "hs_task_subject": "Call back",
                "hs_timestamp": "2026-03-05T10:00:00Z",
                "hs_task_status": "NOT_STARTED",
                "hs_task_priority": "HIGH",
            },
            associations=[
                {
                    "to": {"id": contact_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}],
                }
            ],
        )
    )
    assert task is not None
    assert task.properties["hs_timestamp"] == "2026-03-05T10:00:00.000Z"
    linked = client.crm.associations.v4.basic_api.get_page("contacts", contact_id, "tasks")
    # The API sends toObjectId as a number; the client model types it as a string.
    assert [(r.to_object_id, r.association_types[0].type_id) for r in linked.results] == [
        (task.id, 203)
    ]


def test_invalid_enumeration_option_is_rejected(client: HubSpot) -> None:
    with pytest.raises(TasksApiException) as raised:
        client.crm.objects.tasks.basic_api.create(
            ObjectCreate(properties={"hs_timestamp": "0", "hs_task_status": "MAYBE"})
        )
    assert _body(raised.value)["errors"][0]["code"] == "INVALID_OPTION"


def test_v4_default_association_is_200_and_labelled_is_201(client: HubSpot) -> None:
    contact_id = _contact(client, "anna@example.com")
    company = client.crm.companies.basic_api.create(
        {"properties": {"name": "Tallinna Kohvik OÜ", "domain": "kohvik.ee"}}
    )
    v4 = client.crm.associations.v4.basic_api

    default = v4.create_default("contacts", contact_id, "companies", company.id)
    assert default is not None
    assert default.status == "COMPLETE"
    labelled = v4.create(
        "contacts",
        contact_id,
        "companies",
        company.id,
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)],
    )
    assert labelled is not None
    assert labelled.labels == ["Primary"]

    seen = v4.get_page("companies", company.id, "contacts")
    assert {t.type_id for t in seen.results[0].association_types} == {2, 280}
    read = client.crm.contacts.basic_api.get_by_id(contact_id, associations=["companies"])
    types = {r.type for r in read.associations["companies"].results}
    assert types == {"contact_to_company", "contact_to_company_unlabeled"}

    v4.archive("contacts", contact_id, "companies", company.id)
    assert v4.get_page("contacts", contact_id, "companies").results == []


def test_properties_and_groups_create_is_201_and_names_are_unique(client: HubSpot) -> None:
    props = client.crm.properties
    group = props.groups_api.create(
        "contacts", PropertyGroupCreate(name="cx_sync", label="CX sync")
    )
    assert group is not None
    assert group.name == "cx_sync"
    created = props.core_api.create(
        "contacts",
        PropertyCreate(
            name="cx_id",
            label="CX id",
            type="string",
            field_type="text",
            group_name="cx_sync",
            has_unique_value=True,
        ),
    )
    assert created is not None
    assert created.has_unique_value is True
    assert props.core_api.get_by_name("contacts", "cx_id").group_name == "cx_sync"
    with pytest.raises(PropertiesApiException) as raised:
        props.core_api.create(
            "contacts",
            PropertyCreate(
                name="cx_id", label="again", type="string", field_type="text", group_name="cx_sync"
            ),
        )
    assert raised.value.status == 409
    with pytest.raises(PropertiesApiException) as bad_pair:
        props.core_api.create(
            "contacts",
            PropertyCreate(
                name="cx_score", label="S", type="number", field_type="text", group_name="cx_sync"
            ),
        )
    assert bad_pair.value.status == 400


def test_feedback_submissions_are_read_only(hs: Served, client: HubSpot) -> None:
    from sandbox.data.generate import generate
    from sandbox.data.model import Company, Owner, Person, SurveyAnswer

    hs.emu.load(r for r in generate(3, 5) if isinstance(r, Owner | Company | Person | SurveyAnswer))
    page = client.crm.objects.feedback_submissions.basic_api.get_page(
        properties=["hs_survey_type", "hs_value"]
    )
    assert page.results
    assert all(r.properties["hs_survey_type"] in {"NPS", "CSAT", "CES"} for r in page.results)
    answer = client.api_request(
        {
            "method": "POST",
            "path": "/crm/v3/objects/feedback_submissions",
            "body": {"properties": {}},
        }
    )
    assert answer.status_code == 405


def test_owners_list_and_filter_by_email(hs: Served, client: HubSpot) -> None:
    from sandbox.data.generate import generate
    from sandbox.data.model import Owner

    hs.emu.load(r for r in generate(3, 1) if isinstance(r, Owner))
    owners = client.crm.owners.owners_api.get_page(limit=3)
    assert len(owners.results) == 3
    assert owners.paging.next.after
    rest = client.crm.owners.owners_api.get_page(limit=100, after=owners.paging.next.after)
    assert len(owners.results) + len(rest.results) == 8
    one = client.crm.owners.owners_api.get_page(email=owners.results[1].email)
    assert [o.id for o in one.results] == [owners.results[1].id]
    assert (
        client.crm.owners.owners_api.get_by_id(int(one.results[0].id)).email == one.results[0].email
    )


def test_missing_or_unknown_token_is_401_and_missing_scope_is_403(hs: Served) -> None:
    with pytest.raises(ContactsApiException) as unknown:
        hs.client(token="pat-wrong").crm.contacts.basic_api.get_page()
    assert unknown.value.status == 401
    assert _body(unknown.value)["category"] == "INVALID_AUTHENTICATION"

    read_only = hs.client(token="pat-contacts-read-only")
    assert read_only.crm.contacts.basic_api.get_page().results == []
    with pytest.raises(CompaniesApiException) as forbidden:
        read_only.crm.companies.basic_api.get_page()
    assert forbidden.value.status == 403
    body = _body(forbidden.value)
    assert body["category"] == "MISSING_SCOPES"
    assert body["context"]["requiredScopes"] == ["crm.objects.companies.read"]


def test_unknown_route_and_bad_json_answer_in_hubspot_shape(hs: Served) -> None:
    import requests

    headers = {"Authorization": "Bearer pat-na1-test-token"}
    missing = requests.get(f"{hs.url}/crm/v3/nothing-here", headers=headers, timeout=5)
    assert missing.status_code == 404
    assert missing.json()["category"] == "OBJECT_NOT_FOUND"
    broken = requests.post(
        f"{hs.url}/crm/v3/objects/contacts", data=b"{not json", headers=headers, timeout=5
    )
    assert broken.status_code == 400
    assert broken.json()["category"] == "VALIDATION_ERROR"
    unknown_type = requests.get(f"{hs.url}/crm/v3/objects/unicorns", headers=headers, timeout=5)
    assert unknown_type.status_code == 400


def test_pipelines_list_stages_and_stage_values_are_validated(client: HubSpot) -> None:
    tickets = client.crm.pipelines.pipelines_api.get_all("tickets")
    support = tickets.results[0]
    assert support.id == "0"
    assert [(s.id, s.metadata["ticketState"]) for s in support.stages][-1] == ("4", "CLOSED")
    deals = client.crm.pipelines.pipeline_stages_api.get_all("deals", "default")
    assert "closedwon" in [s.id for s in deals.results]

    ticket = client.crm.tickets.basic_api.create(
        {"properties": {"subject": "Broken kettle", "hs_pipeline_stage": "1"}}
    )
    assert ticket.properties["hs_pipeline"] == "0"  # the default support pipeline
    with pytest.raises(TicketsApiException) as raised:
        client.crm.tickets.basic_api.create(
            {"properties": {"subject": "x", "hs_pipeline_stage": "99"}}
        )
    assert raised.value.status == 400
    assert _body(raised.value)["errors"][0]["code"] == "INVALID_OPTION"
