"""Bulk API 2.0 through simple-salesforce's `sf.bulk2`: ingest and query jobs."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sandbox.core.server import SandboxServer


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_bulk_query_pages_with_locators(sf: Salesforce) -> None:
    expected = sf.query("SELECT COUNT() FROM Account")["totalSize"]
    chunks = list(
        sf.bulk2.Account.query("SELECT Id, Name, Owner.Name FROM Account", max_records=1500, wait=0)
    )
    rows = [row for chunk in chunks for row in _rows(chunk)]
    assert len(chunks) == -(-expected // 1500)
    assert len(rows) == expected
    assert set(rows[0]) == {"Id", "Name", "Owner.Name"}
    assert len({r["Id"] for r in rows}) == expected
    assert all(r["Owner.Name"] for r in rows)


def test_bulk_upsert_insert_and_failed_results(sf: Salesforce) -> None:
    marker = uuid.uuid4().hex[:8]
    good = [
        {"Response_Id__c": f"B-{marker}-{i}", "Score__c": str(i), "Survey_Type__c": "NPS"}
        for i in range(5)
    ]
    bad = {"Response_Id__c": f"B-{marker}-x", "Score__c": "not a number", "Survey_Type__c": "NPS"}
    results = sf.bulk2.Survey_Response__c.upsert(
        records=[*good, bad], external_id_field="Response_Id__c", wait=0
    )
    assert results[0]["numberRecordsProcessed"] == 6
    assert results[0]["numberRecordsFailed"] == 1
    job_id = results[0]["job_id"]
    successes = _rows(sf.bulk2.Survey_Response__c.get_successful_records(job_id))
    failures = _rows(sf.bulk2.Survey_Response__c.get_failed_records(job_id))
    assert {r["sf__Created"] for r in successes} == {"true"}
    assert all(r["sf__Id"].startswith("a0S") for r in successes)
    assert failures[0]["Response_Id__c"] == f"B-{marker}-x"
    assert failures[0]["sf__Error"].startswith("JSON_PARSER_ERROR")
    again = sf.bulk2.Survey_Response__c.upsert(
        records=[{"Response_Id__c": f"B-{marker}-0", "Score__c": "10"}],
        external_id_field="Response_Id__c",
        wait=0,
    )
    updated = _rows(sf.bulk2.Survey_Response__c.get_successful_records(again[0]["job_id"]))
    assert updated[0]["sf__Created"] == "false"
    soql = f"SELECT Score__c FROM Survey_Response__c WHERE Response_Id__c = 'B-{marker}-0'"
    assert sf.query(soql)["records"][0]["Score__c"] == 10.0


def test_bulk_insert_with_parent_by_external_id_and_delete(sf: Salesforce) -> None:
    account = sf.Account.create({"Name": f"Bulk parent {uuid.uuid4().hex[:6]}"})
    marker = uuid.uuid4().hex[:8]
    inserted = sf.bulk2.Contact.insert(
        records=[{"LastName": f"bulk-{marker}", "AccountId": account["id"]} for _ in range(3)],
        wait=0,
    )
    assert inserted[0]["numberRecordsFailed"] == 0
    ids = [
        r["sf__Id"] for r in _rows(sf.bulk2.Contact.get_successful_records(inserted[0]["job_id"]))
    ]
    assert len(ids) == 3
    deleted = sf.bulk2.Contact.delete(records=[{"Id": i} for i in ids], wait=0)
    assert deleted[0]["numberRecordsProcessed"] == 3
    assert (
        sf.query(f"SELECT COUNT() FROM Contact WHERE LastName = 'bulk-{marker}'")["totalSize"] == 0
    )


def test_job_states_advance_on_poll_and_bad_jobs_are_refused(
    sf: Salesforce, sf_server: SandboxServer, admin: requests.Session
) -> None:
    jobs = f"{sf.base_url}jobs/query"
    created = sf.session.post(
        jobs, json={"operation": "query", "query": "SELECT Id FROM User"}, headers=sf.headers
    ).json()
    assert created["state"] == "UploadComplete"
    assert created["id"].startswith("750")
    states = [
        sf.session.get(f"{jobs}/{created['id']}", headers=sf.headers).json()["state"]
        for _ in range(3)
    ]
    assert states == ["InProgress", "JobComplete", "JobComplete"]
    bad = sf.session.post(
        jobs, json={"operation": "query", "query": "SELECT Nope FROM User"}, headers=sf.headers
    )
    assert bad.status_code == 400
    assert bad.json()[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("jobs/ingest", method="POST", json={"operation": "merge", "object": "Contact"})
