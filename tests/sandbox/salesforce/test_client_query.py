"""Reads through the real simple-salesforce client over loopback TLS."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sandbox.core.server import SandboxServer
from sandbox.salesforce.emulator import SalesforceEmulator
from tests.sandbox.salesforce.conftest import CUSTOMERS


def test_paging_through_5000_contacts(
    emulator: SalesforceEmulator, sf: Salesforce, admin: requests.Session, sf_server: SandboxServer
) -> None:
    admin.delete(f"{sf_server.base_url}/__sandbox/requests").raise_for_status()
    records = list(sf.query_all_iter("SELECT Id, Email, SystemModstamp FROM Contact ORDER BY Id"))
    # The generator makes some persons leads; every other person is a contact. (Other tests
    # share the org and add contacts, so compare with the count at this moment.)
    loaded = emulator.loader.report.created
    assert loaded["Contact"] + loaded["Lead"] == CUSTOMERS
    total = sf.query("SELECT COUNT() FROM Contact")["totalSize"]
    assert total >= loaded["Contact"] >= 4000
    assert len(records) == total
    ids = [r["Id"] for r in records]
    assert len(set(ids)) == total
    assert ids == sorted(ids)
    assert all(len(i) == 18 and i.startswith("003") for i in ids)
    pages = admin.get(
        f"{sf_server.base_url}/__sandbox/requests", params={"path_glob": "/services/data/*/query*"}
    ).json()
    # One request per 2,000-row page of the read, plus the COUNT() query.
    assert pages["count"] == (total + 1999) // 2000 + 1


def test_first_page_shape_and_next_records_url_is_a_path(sf: Salesforce) -> None:
    page = sf.query("SELECT Id, Name, Account.Name FROM Contact")
    assert page["done"] is False
    assert page["nextRecordsUrl"].startswith("/services/data/v59.0/query/0r8")
    assert page["nextRecordsUrl"].endswith("-2000")
    assert len(page["records"]) == 2000
    first = page["records"][0]
    assert first["attributes"]["type"] == "Contact"
    assert first["attributes"]["url"] == f"/services/data/v59.0/sobjects/Contact/{first['Id']}"
    assert first["Account"]["attributes"]["type"] == "Account"
    second = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert second["totalSize"] == page["totalSize"]
    assert second["records"][0]["Id"] != first["Id"]


def test_batch_size_hint_and_invalid_locator(sf: Salesforce) -> None:
    page = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=250"})
    assert len(page["records"]) == 250
    assert page["nextRecordsUrl"].endswith("-250")
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more("/services/data/v59.0/query/0r8XXXXXXXXXXXXXXX-2000", identifier_is_url=True)
    assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_all_includes_deleted_rows(sf: Salesforce) -> None:
    created = sf.Contact.create({"LastName": "Kustutatud"})
    sf.Contact.delete(created["id"])
    soql = f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{created['id']}'"
    assert sf.query(soql)["totalSize"] == 0
    deleted = sf.query_all(soql, include_deleted=True)["records"]
    assert [(r["Id"], r["IsDeleted"]) for r in deleted] == [(created["id"], True)]


def test_loaded_history_is_linked(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    contact = sf.query("SELECT Id, AccountId, Language__c FROM Contact LIMIT 1")["records"][0]
    assert contact["Language__c"] in {"vi", "zh", "et", "en"}
    tasks = sf.query(
        "SELECT Id, TaskSubtype, Status, IsClosed, AccountId FROM Task "
        f"WHERE WhoId = '{contact['Id']}' AND CreatedById != '{emulator.integration_user_id}'"
    )["records"]
    surveys = sf.query(
        "SELECT Score__c, Survey_Type__c, Contact__r.Id FROM Survey_Response__c "
        f"WHERE Contact__c = '{contact['Id']}'"
    )["records"]
    assert tasks or surveys
    for task in tasks:
        assert task["IsClosed"] is True
        assert task["AccountId"] == contact["AccountId"]
    for survey in surveys:
        assert survey["Contact__r"]["Id"] == contact["Id"]


def test_describe_and_global_describe(sf: Salesforce) -> None:
    describe = sf.Contact.describe()
    fields = {f["name"]: f for f in describe["fields"]}
    assert describe["keyPrefix"] == "003"
    assert fields["LastName"]["nillable"] is False
    assert fields["Name"]["createable"] is False
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["AccountId"]["relationshipName"] == "Account"
    assert "Tasks" in {c["relationshipName"] for c in describe["childRelationships"]}
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {
        "Account",
        "Contact",
        "Lead",
        "Opportunity",
        "Order",
        "Case",
        "CaseComment",
        "Task",
        "Event",
        "EmailMessage",
        "User",
        "Survey_Response__c",
    } <= names


def test_out_of_order_commit_shows_up_behind_the_watermark(
    sf: Salesforce, sf_server: SandboxServer, admin: requests.Session
) -> None:
    base = sf_server.base_url
    delay = f"{base}/__sandbox/salesforce/commit-delay"
    admin.put(delay, json={"rate": 1.0, "seconds": 30}).raise_for_status()
    slow = sf.Contact.create({"LastName": "Slow commit"})
    admin.put(delay, json={"rate": 0.0}).raise_for_status()
    fast = sf.Contact.create({"LastName": "Fast commit"})
    stamps = {
        r["Id"]: r["SystemModstamp"]
        for r in sf.query_all(
            f"SELECT Id, SystemModstamp FROM Contact WHERE Id IN ('{slow['id']}', '{fast['id']}')"
        )["records"]
    }
    # Only the later write is visible: a pull would move its watermark past the slow one.
    assert set(stamps) == {fast["id"]}
    admin.post(f"{base}/__sandbox/clock", json={"advance": 31}).raise_for_status()
    late = sf.query(f"SELECT SystemModstamp FROM Contact WHERE Id = '{slow['id']}'")["records"]
    assert late[0]["SystemModstamp"] < stamps[fast["id"]]


def test_locators_expire_after_two_days(
    sf: Salesforce, sf_server: SandboxServer, admin: requests.Session
) -> None:
    page = sf.query("SELECT Id FROM Contact")
    admin.post(
        f"{sf_server.base_url}/__sandbox/clock", json={"advance": 2 * 86400 + 1}
    ).raise_for_status()
    fresh = admin.post(f"{sf_server.base_url}/__sandbox/salesforce/sessions", json={}).json()
    sf.session_id = fresh["access_token"]
    sf.headers["Authorization"] = "Bearer " + fresh["access_token"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
