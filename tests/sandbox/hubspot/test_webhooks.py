"""The webhook sender: signed batches to a receiver, retries, duplicates and reordering.

The receiver is a small ASGI app on its own loopback server; signatures are checked with the
client library's published implementation (``hubspot.utils.signature.Signature``, v3).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.utils.signature import Signature
from starlette.types import Receive, Scope, Send

from sandbox.core.server import SandboxServer
from tests.sandbox.hubspot.conftest import Served

SECRET = "sandbox-client-secret"  # WebhookSettings' default client secret


@dataclass
class Receiver:
    """Records every POST; answers the queued statuses first, then 204."""

    statuses: list[int] = field(default_factory=list)
    seen: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        url = f"{scope['path']}?{scope['query_string'].decode()}"
        with self.lock:
            self.seen.append((url, headers, body.decode()))
            status = self.statuses.pop(0) if self.statuses else 204
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def events(self) -> list[dict[str, Any]]:
        """Every delivered event, in arrival order."""
        with self.lock:
            return [event for _, _, body in self.seen for event in json.loads(body)]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    """A running receiver and the URL to deliver to.

    The query holds a percent-escape that v3 decodes before hashing (docs/crm-api-facts.md §3.11).
    """
    app = Receiver()
    with SandboxServer(app) as server:
        yield app, f"{server.base_url}/hooks/hubspot?source=sandbox%3Atest"


def _configure(hs: Served, **settings: Any) -> None:
    answer = requests.put(f"{hs.url}/__sandbox/hubspot/webhooks", json=settings, timeout=5)
    assert answer.status_code == 200, answer.text


def _flush(hs: Served) -> dict[str, Any]:
    answer = requests.post(f"{hs.url}/__sandbox/hubspot/webhooks/flush", timeout=30)
    state: dict[str, Any] = answer.json()
    assert state["flushed"] is True
    return state


def test_events_arrive_signed_with_a_valid_v3_signature(
    hs: Served, client: HubSpot, receiver: tuple[Receiver, str]
) -> None:
    app, url = receiver
    _configure(hs, target_url=url, linger_seconds=0.05, reorder=False, duplicate_rate=0.0)
    created = client.crm.contacts.basic_api.create(
        {"properties": {"email": "linh@example.vn", "firstname": "Linh"}}
    )
    client.crm.contacts.basic_api.archive(created.id)
    _flush(hs)

    events = app.events()
    kinds = [(e["subscriptionType"], e.get("propertyName")) for e in events]
    assert kinds == [
        ("contact.creation", None),
        ("contact.propertyChange", "email"),
        ("contact.propertyChange", "firstname"),
        ("contact.deletion", None),
    ]
    assert {e["objectId"] for e in events} == {int(created.id)}
    assert events[0]["changeFlag"] == "NEW"
    assert events[0]["portalId"] == hs.emu.config.portal_id
    assert events[1]["propertyValue"] == "linh@example.vn"
    assert len({e["eventId"] for e in events}) == 4

    decoded = url.replace("%3A", ":")  # Signature does not decode; receivers must (§3.11)
    for path, headers, body in app.seen:
        assert Signature.is_valid(
            signature=headers["x-hubspot-signature-v3"],
            client_secret=SECRET,
            request_body=body,
            http_uri=decoded,
            http_method="POST",
            signature_version="v3",
            timestamp=headers["x-hubspot-request-timestamp"],
        )
        assert Signature.is_valid(
            headers["x-hubspot-signature"], SECRET, body, signature_version="v1"
        )
        assert not Signature.is_valid(
            headers["x-hubspot-signature-v3"],
            SECRET,
            body,
            url,  # the undecoded URL signs differently
            "POST",
            "v3",
            headers["x-hubspot-request-timestamp"],
        )
        assert not Signature.is_valid(
            headers["x-hubspot-signature-v3"],
            "other-secret",
            body,
            decoded,
            "POST",
            "v3",
            headers["x-hubspot-request-timestamp"],
        )
        assert url.endswith(path)


def test_failed_deliveries_are_retried_with_attempt_numbers(
    hs: Served, client: HubSpot, receiver: tuple[Receiver, str]
) -> None:
    app, url = receiver
    app.statuses = [500, 503]
    _configure(
        hs,
        target_url=url,
        subscriptions=["contact.creation"],
        linger_seconds=0.05,
        retry_base_seconds=0.05,
    )
    client.crm.contacts.basic_api.create({"properties": {"email": "retry@example.com"}})
    state = _flush(hs)

    assert [(d["attempt"], d["status"]) for d in state["deliveries"]] == [
        (0, 500),
        (1, 503),
        (2, 204),
    ]
    assert [e["attemptNumber"] for e in app.events()] == [0, 1, 2]
    assert len({e["eventId"] for e in app.events()}) == 1


def test_client_errors_are_not_retried(
    hs: Served, client: HubSpot, receiver: tuple[Receiver, str]
) -> None:
    app, url = receiver
    app.statuses = [400]
    _configure(hs, target_url=url, subscriptions=["contact.creation"], linger_seconds=0.05)
    client.crm.contacts.basic_api.create({"properties": {"email": "once@example.com"}})
    state = _flush(hs)
    assert [d["status"] for d in state["deliveries"]] == [400]


def test_on_demand_duplicates_and_reordering_in_batches_of_at_most_100(
    hs: Served, client: HubSpot, receiver: tuple[Receiver, str]
) -> None:
    app, url = receiver
    _configure(
        hs,
        target_url=url,
        subscriptions=["contact.creation"],
        linger_seconds=0.2,
        duplicate_rate=1.0,
        reorder=True,
        seed=3,
    )
    rows = [{"properties": {"email": f"b{i}@example.com"}} for i in range(60)]
    client.crm.contacts.batch_api.create({"inputs": rows})
    _flush(hs)

    sizes = [len(json.loads(body)) for _, _, body in app.seen]
    assert all(size <= 100 for size in sizes)
    ids = [e["eventId"] for e in app.events()]
    assert sorted(set(ids)) == list(range(1, 61))
    assert sum(ids.count(i) for i in set(ids)) == sum(sizes)
    assert any(ids.count(i) == 2 for i in set(ids))  # duplicated, same eventId
    assert ids != sorted(ids)  # shuffled within a batch


def test_gdpr_delete_sends_privacy_deletion_and_forgets_the_contact(
    hs: Served, client: HubSpot, receiver: tuple[Receiver, str]
) -> None:
    app, url = receiver
    _configure(hs, target_url=url, subscriptions=["contact.privacyDeletion"], linger_seconds=0.05)
    made = client.crm.contacts.basic_api.create({"properties": {"email": "forget@example.com"}})
    client.crm.contacts.basic_api.purge({"objectId": made.id})
    _flush(hs)

    assert [(e["subscriptionType"], e["objectId"]) for e in app.events()] == [
        ("contact.privacyDeletion", int(made.id))
    ]
    listed = client.crm.contacts.basic_api.get_page(archived=True)
    assert listed.results == []  # gone for good, not archived
    # An email that matches nobody is still a 204: HubSpot blocklists it instead.
    client.crm.contacts.basic_api.purge({"objectId": "nobody@example.com", "idProperty": "email"})


def test_merge_keeps_the_primary_and_redirects_the_merged_id(
    hs: Served, client: HubSpot, receiver: tuple[Receiver, str]
) -> None:
    from hubspot.crm.contacts import PublicMergeInput

    app, url = receiver
    _configure(hs, target_url=url, subscriptions=["contact.merge"], linger_seconds=0.05)
    api = client.crm.contacts.basic_api
    primary = api.create({"properties": {"email": "an@example.vn", "firstname": "An"}})
    duplicate = api.create({"properties": {"email": "an.nguyen@example.vn", "phone": "+84 1"}})
    company = client.crm.companies.basic_api.create({"properties": {"name": "Sao Mai"}})
    client.crm.associations.v4.basic_api.create_default(
        "contacts", duplicate.id, "companies", company.id
    )

    merged = api.merge(
        PublicMergeInput(primary_object_id=primary.id, object_id_to_merge=duplicate.id)
    )
    _flush(hs)

    assert merged.id == primary.id
    assert merged.properties["phone"] == "+84 1"  # filled from the merged record
    assert merged.properties["email"] == "an@example.vn"  # the primary's value wins
    assert merged.properties["hs_merged_object_ids"] == duplicate.id
    assert api.get_by_id(duplicate.id).id == primary.id  # the old id resolves to the survivor
    by_old_email = api.get_by_id("an.nguyen@example.vn", id_property="email")
    assert by_old_email.id == primary.id
    assert [c.id for c in client.crm.contacts.get_all()] == [primary.id]
    links = client.crm.associations.v4.basic_api.get_page("contacts", primary.id, "companies")
    assert [r.to_object_id for r in links.results] == [company.id]
    assert [
        (e["subscriptionType"], e["primaryObjectId"], e["mergedObjectIds"]) for e in app.events()
    ] == [("contact.merge", int(primary.id), [int(duplicate.id)])]


def test_association_changes_reach_both_sides(
    hs: Served, client: HubSpot, receiver: tuple[Receiver, str]
) -> None:
    app, url = receiver
    _configure(
        hs,
        target_url=url,
        subscriptions=["contact.associationChange", "company.associationChange"],
        linger_seconds=0.05,
    )
    contact = client.crm.contacts.basic_api.create({"properties": {"email": "ly@example.vn"}})
    company = client.crm.companies.basic_api.create({"properties": {"name": "Sao Mai"}})
    v4 = client.crm.associations.v4.basic_api
    v4.create(
        "contacts",
        contact.id,
        "companies",
        company.id,
        [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    )
    v4.archive("contacts", contact.id, "companies", company.id)
    _flush(hs)

    seen = [
        (
            e["subscriptionType"],
            e["associationType"],
            e["fromObjectId"],
            e["associationRemoved"],
            e["isPrimaryAssociation"],
        )
        for e in app.events()
    ]
    c, k = int(contact.id), int(company.id)
    assert seen == [
        ("contact.associationChange", "CONTACT_TO_COMPANY", c, False, True),
        ("company.associationChange", "COMPANY_TO_CONTACT", k, False, True),
        ("contact.associationChange", "CONTACT_TO_COMPANY", c, True, True),
        ("company.associationChange", "COMPANY_TO_CONTACT", k, True, True),
    ]
