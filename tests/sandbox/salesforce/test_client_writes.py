"""Writes through simple-salesforce: CRUD, upsert codes, collections, tooling custom fields."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)


def _collection(sf: Salesforce, method: str, body: dict[str, Any], path: str = "") -> Any:
    return sf.restful(f"composite/sobjects{path}", method=method, json=body)


def test_crud_round_trip_and_audit_fields(sf: Salesforce) -> None:
    created = sf.Contact.create({"lastname": "Trần", "FirstName": "Bình", "Email": "binh@x.vn"})
    assert created["success"] is True
    record = sf.Contact.get(created["id"])
    assert record["Name"] == "Bình Trần"
    assert record["CreatedDate"].endswith("+0000")
    assert len(record["CreatedDate"]) == len("2025-01-01T00:00:00.000+0000")
    before = record["SystemModstamp"]
    assert sf.Contact.update(created["id"], {"Email": "binh2@x.vn"}) == 204
    after = sf.Contact.get(created["id"])
    assert after["Email"] == "binh2@x.vn"
    assert after["SystemModstamp"] > before
    assert sf.Contact.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Contact.get(created["id"])
    assert caught.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_validation_errors_have_the_real_bodies(sf: Salesforce) -> None:
    cases: list[tuple[str, dict[str, Any], str, list[str]]] = [
        ("Contact", {"FirstName": "NoLast"}, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ("Contact", {"LastName": "x", "Nope__c": 1}, "INVALID_FIELD", ["Nope__c"]),
        ("Contact", {"LastName": "x", "Name": "y"}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["Name"]),
        ("Contact", {"LastName": "x", "Email": "not-an-email"}, "INVALID_EMAIL_ADDRESS", ["Email"]),
        ("Contact", {"LastName": "x" * 81}, "STRING_TOO_LONG", ["LastName"]),
        (
            "Contact",
            {"LastName": "x", "AccountId": "0035g0000000001AAA"},
            "FIELD_INTEGRITY_EXCEPTION",
            ["AccountId"],
        ),
        (
            "Contact",
            {"LastName": "x", "AccountId": "001000000000000AAA"},
            "INVALID_CROSS_REFERENCE_KEY",
            ["AccountId"],
        ),
        ("Opportunity", {"Name": "Deal"}, "REQUIRED_FIELD_MISSING", ["StageName", "CloseDate"]),
    ]
    for object_name, body, code, fields in cases:
        with pytest.raises(SalesforceMalformedRequest) as caught:
            getattr(sf, object_name).create(body)
        error = caught.value.content[0]
        assert caught.value.status == 400
        assert error["errorCode"] == code, body
        assert error["fields"] == fields, body


def test_malformed_json_and_unknown_routes(sf: Salesforce) -> None:
    response = sf.session.post(
        f"{sf.base_url}sobjects/Contact/", data="{not json", headers=sf.headers
    )
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    missing = sf.session.get(f"{sf.base_url}nothing/here", headers=sf.headers)
    assert missing.status_code == 404
    assert missing.json() == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]
    old_version = sf.session.get(
        sf.base_url.replace("v59.0", "v20.0") + "limits/", headers=sf.headers
    )
    assert old_version.status_code == 404
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Nope__c.create({"Name": "x"})
    assert caught.value.content[0]["errorCode"] == "INVALID_TYPE"


def test_upsert_by_external_id_201_200_404(sf: Salesforce) -> None:
    key = f"R-{uuid.uuid4()}"
    assert sf.Survey_Response__c.upsert(f"Response_Id__c/{key}", {"Score__c": 9}) == 201
    assert sf.Survey_Response__c.upsert(f"Response_Id__c/{key}", {"Score__c": 3}) == 200
    rows = sf.query(f"SELECT Score__c, Name FROM Survey_Response__c WHERE Response_Id__c = '{key}'")
    assert rows["totalSize"] == 1
    assert rows["records"][0]["Score__c"] == 3.0
    assert rows["records"][0]["Name"].startswith("SR-")
    raw = sf.Survey_Response__c.upsert(f"Response_Id__c/{key}", {"Score__c": 4}, raw_response=True)
    assert raw.json()["created"] is False
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Survey_Response__c.upsert("Not_A_Field__c/1", {"Score__c": 1})
    assert "Provided external ID field does not exist" in caught.value.content[0]["message"]
    with pytest.raises(SalesforceResourceNotFound):
        sf.Survey_Response__c.upsert(
            f"Response_Id__c/{uuid.uuid4()}?updateOnly=true", {"Score__c": 1}
        )
    assert sf.Survey_Response__c.get_by_custom_id("Response_Id__c", key)["Score__c"] == 4.0


def test_tooling_custom_field_then_300_on_ambiguous_upsert(sf: Salesforce) -> None:
    name = f"Cx_Ref_{uuid.uuid4().hex[:6]}__c"
    created = sf.toolingexecute(
        "sobjects/CustomField/",
        method="POST",
        json={
            "FullName": f"Contact.{name}",
            "Metadata": {"label": "CX ref", "type": "Text", "length": 40, "externalId": True},
        },
    )
    assert created["success"] is True
    assert created["id"].startswith("00N")
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert fields[name]["externalId"] is True
    assert fields[name]["unique"] is False
    tooling = sf.toolingexecute(
        "query/?q=SELECT+Id,DeveloperName+FROM+CustomField+WHERE+TableEnumOrId='Contact'"
    )
    assert name[:-3] in {r["DeveloperName"] for r in tooling["records"]}
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.toolingexecute(
            "sobjects/CustomField/",
            method="POST",
            json={
                "FullName": f"Contact.{name}",
                "Metadata": {"label": "x", "type": "Text", "length": 5},
            },
        )
    assert caught.value.content[0]["errorCode"] == "DUPLICATE_DEVELOPER_NAME"
    sf.Contact.create({"LastName": "One", name: "SAME"})
    sf.Contact.create({"LastName": "Two", name: "same"})
    with pytest.raises(SalesforceMoreThanOneRecord) as multiple:
        sf.Contact.upsert(f"{name}/SAME", {"FirstName": "x"})
    assert multiple.value.status == 300
    assert len(multiple.value.content) == 2
    assert all(
        u.startswith("/services/data/v59.0/sobjects/Contact/003") for u in multiple.value.content
    )


def test_collections_enforce_200_and_report_per_record(sf: Salesforce) -> None:
    too_many = [{"attributes": {"type": "Contact"}, "LastName": f"n{i}"} for i in range(201)]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        _collection(sf, "POST", {"allOrNone": False, "records": too_many})
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    results = _collection(
        sf,
        "POST",
        {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Contact"}, "LastName": "Ok"},
                {"attributes": {"type": "Contact"}, "FirstName": "Missing"},
                {"attributes": {"type": "Account"}, "Name": "Mixed types are fine"},
            ],
        },
    )
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert "errorCode" not in results[1]["errors"][0]
    assert results[2]["id"].startswith("001")


def test_all_or_none_rolls_everything_back(sf: Salesforce) -> None:
    marker = uuid.uuid4().hex[:8]
    results = _collection(
        sf,
        "POST",
        {
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Contact"}, "LastName": f"rb-{marker}"},
                {"attributes": {"type": "Contact"}, "Email": "no-last-name@x.io"},
            ],
        },
    )
    assert [e["statusCode"] for r in results for e in r["errors"]] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "REQUIRED_FIELD_MISSING",
    ]
    assert sf.query(f"SELECT COUNT() FROM Contact WHERE LastName = 'rb-{marker}'")["totalSize"] == 0


def test_collection_upsert_update_delete_and_retrieve(sf: Salesforce) -> None:
    keys = [f"K-{uuid.uuid4()}" for _ in range(3)]
    records = [
        {"attributes": {"type": "Survey_Response__c"}, "Response_Id__c": k, "Score__c": i}
        for i, k in enumerate(keys)
    ]
    first = _collection(
        sf, "PATCH", {"allOrNone": False, "records": records}, "/Survey_Response__c/Response_Id__c"
    )
    assert [r["created"] for r in first] == [True, True, True]
    records[0]["Score__c"] = 10
    duplicate = dict(records[1])
    second = _collection(
        sf,
        "PATCH",
        {"allOrNone": False, "records": [records[0], records[1], duplicate]},
        "/Survey_Response__c/Response_Id__c",
    )
    assert [r.get("created") for r in second[:2]] == [False, False]
    assert second[2]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    ids = [r["id"] for r in first]
    updated = _collection(
        sf,
        "PATCH",
        {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Survey_Response__c"}, "id": ids[1], "Score__c": 7}
            ],
        },
    )
    assert updated[0]["success"] is True
    fetched = sf.restful(
        "composite/sobjects/Survey_Response__c",
        params={"ids": ",".join([*ids, "a0S5g0000000zzzAAA"]), "fields": "Score__c"},
    )
    assert [r["Score__c"] if r else None for r in fetched] == [10.0, 7.0, 2.0, None]
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(ids)})
    assert all(r["success"] for r in deleted)
    again = sf.restful("composite/sobjects", method="DELETE", params={"ids": ids[0]})
    assert again[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"


def test_get_updated_and_get_deleted(sf: Salesforce, admin: Any, sf_server: Any) -> None:
    # Windows are whole minutes: run at 10 s past a minute, then look two minutes later.
    # (Forward, not back: SystemModstamp never goes backwards; and within the session lifetime.)
    t0 = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).replace(second=10, microsecond=0)
    clock = f"{sf_server.base_url}/__sandbox/clock"
    admin.post(clock, json={"set": t0.isoformat()}).raise_for_status()
    created = sf.Contact.create({"LastName": "Replicated"})
    sf.Contact.delete(created["id"])
    kept = sf.Contact.create({"LastName": "StillHere"})
    start, end = t0 - dt.timedelta(minutes=5), t0 + dt.timedelta(minutes=5)
    # Still inside the current minute: not covered yet.
    assert created["id"] not in {d["id"] for d in sf.Contact.deleted(start, end)["deletedRecords"]}
    admin.post(clock, json={"advance": 120}).raise_for_status()
    deleted = sf.Contact.deleted(start, end)
    assert created["id"] in {d["id"] for d in deleted["deletedRecords"]}
    assert deleted["latestDateCovered"].startswith(
        (t0 + dt.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:00")
    )
    updated = sf.Contact.updated(start, end)
    assert kept["id"] in updated["ids"]
    assert created["id"] not in updated["ids"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.updated(t0 - dt.timedelta(days=40), end)
    assert caught.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"
