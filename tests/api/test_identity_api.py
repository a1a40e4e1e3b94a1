"""`/v1/customers/{id}/identity`: a person's CRM records with why each is theirs, manual merges
and splits with their audit, and the problems bad input gets (never a 500). The records are
stored by the real RecordStore (the runner is off: queued rescore jobs are seen as left)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.services import services_of
from service.config import Settings
from service.domain import Channel, Customer, Interaction, SourceRef
from service.jobs import JobSettings
from service.main import create_app
from service.store.keys import Scope
from service.store.records import RecordStore
from tests.conftest import make_key

PROBLEM = "application/problem+json"
UNKNOWN = "0" * 32
OBJECTS = {"hs": ("contacts", "calls"), "sf": ("Contact", "Task")}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'identity.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        jobs=JobSettings(enabled=False),
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def store(client: TestClient) -> RecordStore:
    return RecordStore(services_of(client.app).engine)


def pull(client: TestClient, connection: str, crm_id: str, email: str, note: str) -> str:
    """Store one CRM customer record with one interaction; our id of its person."""
    crm_object, history = OBJECTS[connection]
    store(client).upsert(connection, [
        Customer(id=crm_id, email=email, display_name=crm_id,
                 source=SourceRef(connection=connection, crm_object=crm_object, crm_id=crm_id)),
        Interaction(id=note, customer_id=crm_id, channel=Channel.EMAIL,
                    occurred_at="2026-11-01T10:00:00Z",  # type: ignore[arg-type]
                    source=SourceRef(connection=connection, crm_object=history, crm_id=note)),
    ])  # fmt: skip
    found = store(client).known_customer(connection, crm_id)
    assert found is not None
    return found


def headers(client: TestClient, scope: Scope) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(client, scope)}"}


def identity(client: TestClient, customer: str) -> dict[str, Any]:
    response = client.get(f"/v1/customers/{customer}/identity", headers=headers(client, Scope.READ))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_records_of_a_person_and_why(api: TestClient) -> None:
    ann = pull(api, "hs", "101", "ann@example.com", "c1")
    assert pull(api, "sf", "003A", "Ann@Example.com", "t1") == ann
    body = identity(api, ann)
    assert body["customer_id"] == ann
    why = {(r["connection"], r["crm_id"]): (r["rule"], r["confidence"], r["decided_by"])
           for r in body["records"]}  # fmt: skip
    assert why == {("hs", "101"): ("first_record", 1.0, "auto"),
                   ("sf", "003A"): ("email", 0.95, "auto")}  # fmt: skip
    (logged,) = body["decisions"]
    assert (logged["action"], logged["crm_id"]) == ("link", "003A")
    assert "ann" not in str(body["decisions"]).lower().replace("ann@", "")


def test_split_then_merge_back_by_hand_with_an_audit(api: TestClient) -> None:
    ann = pull(api, "hs", "101", "ann@example.com", "c1")
    pull(api, "sf", "003A", "ann@example.com", "t1")
    sf_link = next(r["link_id"] for r in identity(api, ann)["records"] if r["connection"] == "sf")
    write = headers(api, Scope.WRITE)
    split = api.delete(f"/v1/customers/{ann}/identity/links/{sf_link}", headers=write)
    assert split.status_code == 200, split.text
    other = split.json()["split_customer_id"]
    assert other
    assert other != ann
    assert len(split.json()["rescore_jobs"]) == 2
    assert [r["connection"] for r in split.json()["records"]] == ["hs"]
    # The history went with the record; a later pull leaves the split alone.
    assert [i.id for i in store(api).history([other])[other].interactions] == ["t1"]
    assert [i.id for i in store(api).history([ann])[ann].interactions] == ["c1"]
    pull(api, "sf", "003A", "ann@example.com", "t2")
    assert store(api).known_customer("sf", "003A") == other
    (unlinked,) = [d for d in identity(api, other)["decisions"] if d["action"] == "unlink"]
    assert unlinked["decided_by"].startswith("key:")
    assert (unlinked["previous_customer_id"], unlinked["rule"]) == (ann, "manual")

    merged = api.post(
        f"/v1/customers/{ann}/identity/links", json={"customer_id": other}, headers=write
    )
    assert merged.status_code == 200, merged.text
    assert sorted(r["connection"] for r in merged.json()["records"]) == ["hs", "sf"]
    sf_record = next(r for r in merged.json()["records"] if r["connection"] == "sf")
    assert (sf_record["rule"], sf_record["decided_by"][:4]) == ("manual", "key:")
    history = store(api).history([ann])[ann]
    assert sorted(i.id for i in history.interactions) == ["c1", "t1", "t2"]
    gone = api.get(f"/v1/customers/{other}/identity", headers=headers(api, Scope.READ))
    assert gone.status_code == 404


def test_merge_one_record_by_its_crm_id(api: TestClient) -> None:
    bo = pull(api, "hs", "7", "bo@example.com", "c7")
    other = pull(api, "sf", "003B", "robert@example.com", "t7")
    assert other != bo
    response = api.post(
        f"/v1/customers/{bo}/identity/links",
        json={"connection": "sf", "crm_object": "Contact", "crm_id": "003B"},
        headers=headers(api, Scope.WRITE),
    )
    assert response.status_code == 200, response.text
    assert store(api).known_customer("sf", "003B") == bo
    assert len(response.json()["rescore_jobs"]) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"customer_id": UNKNOWN}, 404),
        ({"connection": "sf", "crm_object": "Contact", "crm_id": "nope"}, 404),
        ({"customer_id": "SELF"}, 409),  # themselves
        ({"customer_id": "TWIN"}, 409),  # a second Salesforce record
        ({"customer_id": UNKNOWN, "connection": "sf"}, 422),
        ({"connection": "sf"}, 422),
        ({}, 422),
        ({"customer_id": "not-an-id"}, 422),
    ],
)
def test_bad_links_are_problems(api: TestClient, body: dict[str, str], status: int) -> None:
    ann = pull(api, "hs", "101", "ann@example.com", "c1")
    pull(api, "sf", "003A", "ann@example.com", "t1")
    twin = pull(api, "sf", "003Z", "other@example.com", "t9")
    named = {k: {"SELF": ann, "TWIN": twin}.get(v, v) for k, v in body.items()}
    response = api.post(
        f"/v1/customers/{ann}/identity/links", json=named, headers=headers(api, Scope.WRITE)
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


def test_bad_unlinks_and_scopes_are_problems(api: TestClient) -> None:
    solo = pull(api, "hs", "5", "solo@example.com", "c5")
    (only,) = identity(api, solo)["records"]
    write, read = headers(api, Scope.WRITE), headers(api, Scope.READ)
    cases = [
        (f"/v1/customers/{solo}/identity/links/{only['link_id']}", write, 409),  # the last one
        (f"/v1/customers/{solo}/identity/links/999999", write, 404),
        (f"/v1/customers/{UNKNOWN}/identity/links/1", write, 404),
        (f"/v1/customers/{solo}/identity/links/0", write, 422),
        (f"/v1/customers/{solo}/identity/links/{only['link_id']}", read, 403),
    ]
    for path, auth, status in cases:
        response = api.delete(path, headers=auth)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
    missing = api.get(f"/v1/customers/{UNKNOWN}/identity", headers=read)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM)
