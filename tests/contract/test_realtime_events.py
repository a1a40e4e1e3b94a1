"""Real time from both CRMs: the sandboxes' own senders (HubSpot webhooks, Salesforce change
events) deliver to the running service, which raises the flag and creates exactly one task in
the CRM; duplicates, stale events, our own writes, bad signatures and stale timestamps are
handled at `POST /v1/webhooks/{kind}` (the `hubspot` and `salesforce` paths).

Only "it arrives" is asserted here; how fast is measured by `python -m bench.realtime`.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.registry import connection_settings
from sandbox.core.server import SandboxServer
from sandbox.hubspot.signature import sign_v3
from sandbox.salesforce.changeevents import sign
from sandbox.serving import RunningSandbox, ServeOptions, connection_values, start_sandbox
from sandbox.watch import CrmWatch, HubSpotWatch, SalesforceWatch, Seen
from service.api.services import services_of
from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.sentiment.settings import SentimentSettings
from service.usecases.sync import sync

COMPLAINT = (
    "My order arrived two weeks late and the box was damaged. Terrible delivery, I am very "
    "disappointed and I will cancel if nobody fixes this."
)
HS, SF = "hubspot-rt", "salesforce-rt"
JSON = {"Content-Type": "application/json"}


@dataclass
class World:
    sandbox: RunningSandbox
    service: str
    watches: dict[str, CrmWatch]
    secrets: dict[str, str]
    app: Any


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    sandbox = start_sandbox(ServeOptions(kinds=("salesforce", "hubspot"), customers=120, seed=11))
    sf: dict[str, Any] = sandbox.info["salesforce"]
    hs: dict[str, Any] = sandbox.info["hubspot"]
    secrets = {HS: hs["webhook_client_secret"], SF: sf["change_event_secret"]}
    database = tmp_path_factory.mktemp("realtime") / "rt.db"
    settings = Settings(
        database_url=f"sqlite:///{database}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        jobs=JobSettings(enabled=False),
        sentiment=SentimentSettings(backends={"*": ("lexicon",)}),
        connections={
            SF: connection_settings(connection_values(sandbox.info, "salesforce")),
            HS: connection_settings(connection_values(sandbox.info, "hubspot")),
        },
    )
    app = create_app(settings)
    state = services_of(app)
    # The batch sync first: history in the store, fields and tasks in the CRMs.
    for name in (SF, HS):
        wiring = state.build_connection(name)
        wiring.writer.provision(dry_run=False)
        sync(
            name,
            wiring.reader,
            wiring.writer,
            state.sync_stores(),
            datetime.now(UTC),
            analyzer=state.analyzer_factory(),
        )
    watches: dict[str, CrmWatch] = {
        HS: HubSpotWatch(hs["base_url"], hs["access_token"]),
        SF: SalesforceWatch(sf["base_url"], sf["session_id"], sf["ca_cert"]),
    }
    try:
        with SandboxServer(app) as server:
            yield World(sandbox, server.base_url, watches, secrets, app)
    finally:
        for watch in watches.values():
            watch.close()
        sandbox.stop()


def _admin(world: World, name: str, path: str, **kw: Any) -> httpx.Response:
    info = world.sandbox.info["hubspot" if name == HS else "salesforce"]
    ca = info.get("ca_cert")
    verify = ssl.create_default_context(cafile=ca) if ca else True
    with httpx.Client(verify=verify, trust_env=False, timeout=30) as client:
        return client.request(kw.pop("method", "PUT"), f"{info['admin_url']}/{path}", **kw)


def _point_sender(world: World, name: str, target: str | None) -> None:
    if name == HS:
        # No subscriptions is how a HubSpot app stops receiving.
        body: dict[str, Any] = {"subscriptions": []}
        if target is not None:
            body = {
                "target_url": target,
                "subscriptions": ["contact.propertyChange", "note.creation", "note.deletion"],
                "duplicate_rate": 0.5,
                "reorder": True,
                "linger_seconds": 0.05,
            }
        assert _admin(world, name, "hubspot/webhooks", json=body).status_code == 200
    elif target is None:
        assert _admin(world, name, "salesforce/change-events/target", method="DELETE").is_success
    else:
        body = {"target_url": target, "duplicate_rate": 0.5, "reorder": True}
        assert _admin(world, name, "salesforce/change-events", json=body).status_code == 200


def _wait(watch: CrmWatch, ids: list[str], before: dict[str, Seen]) -> dict[str, Seen]:
    deadline = time.monotonic() + 60
    while True:
        now = watch.look(ids)
        done = [
            i
            for i in ids
            if now[i].flag
            and now[i].task_keys - before[i].task_keys
            and now[i].scored_at != before[i].scored_at
        ]
        if len(done) == len(ids) or time.monotonic() > deadline:
            return now
        time.sleep(0.2)


@pytest.mark.parametrize("name", [HS, SF])
def test_a_negative_interaction_arrives_as_flag_and_one_task(world: World, name: str) -> None:
    watch = world.watches[name]
    state = services_of(world.app)
    # Customers the model already calls at risk and who have no task yet: the complaint's task
    # is then theirs alone (the contact policy allows it), and the flag must stay raised.
    scores = state.sync_stores().scores.latest()
    links = state.sync_stores().records.crm_ids(name, list(scores))
    kind = "contacts" if name == HS else "Contact"
    flagged = [
        links[c][1]
        for c, row in scores.items()
        if row.churn_flag and c in links and links[c][0] == kind
    ]
    before = watch.look(flagged)
    chosen = [i for i in flagged if not before[i].task_keys][:3]
    assert chosen, "the sandbox dataset has no flagged customer without tasks"
    path = "hubspot" if name == HS else "salesforce"
    _point_sender(world, name, f"{world.service}/v1/webhooks/{path}?connection={name}")
    try:
        for customer in chosen:
            watch.complain(customer, COMPLAINT)
        after = _wait(watch, chosen, before)
    finally:
        _point_sender(world, name, None)
    for customer in chosen:
        assert after[customer].flag, customer
        assert after[customer].scored_at != before[customer].scored_at, customer
        # Exactly one new task, although the sender duplicated and reordered its events.
        assert len(after[customer].task_keys - before[customer].task_keys) == 1, customer


def _hubspot_post(world: World, events: list[dict[str, Any]], **headers: str) -> httpx.Response:
    url = f"{world.service}/v1/webhooks/hubspot"  # one HubSpot connection: implied
    body = json.dumps(events)
    now = int(time.time() * 1000)
    signed = {
        "X-HubSpot-Request-Timestamp": str(now),
        "X-HubSpot-Signature-v3": sign_v3(world.secrets[HS], "POST", url, body, now),
        "Content-Type": "application/json",
    }
    return httpx.post(url, content=body, headers={**signed, **headers}, timeout=30)


def _salesforce_post(
    world: World, events: list[dict[str, Any]], *, secret: str | None = None, age: int = 0
) -> httpx.Response:
    body = json.dumps(events)
    stamp = int(time.time()) - age
    message_id = f"msg_{time.monotonic_ns()}"
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(secret or world.secrets[SF], message_id, stamp, body),
        "Content-Type": "application/json",
    }
    return httpx.post(f"{world.service}/v1/webhooks/salesforce", content=body, headers=headers)


def _cdc(replay: int, change: str, entity: str, record: str, stamp: int) -> dict[str, Any]:
    header = {
        "entityName": entity,
        "recordIds": [record],
        "changeType": change,
        "commitTimestamp": stamp,
        "changedFields": ["Description"] if change == "UPDATE" else [],
    }
    return {
        "channel": f"/data/{entity}ChangeEvent",
        "data": {"payload": {"ChangeEventHeader": header}, "event": {"replayId": replay}},
    }


def _now_ms() -> int:
    """An event time after every earlier run's (distinct per call), yet not in the future: the
    service ignores event times more than a day ahead (a far-future stamp would make every real
    event after it look stale)."""
    time.sleep(0.002)
    return int(time.time() * 1000)


def _first_task(world: World) -> str:
    watch = world.watches[SF]
    assert isinstance(watch, SalesforceWatch)
    rows = watch._query("SELECT Id FROM Task WHERE CEM_Task_Key__c = null LIMIT 1")
    return str(rows[0]["Id"])


def test_salesforce_duplicates_stale_events_and_deletes(world: World) -> None:
    task = _first_task(world)
    base = _now_ms()
    update = _cdc(base, "UPDATE", "Task", task, base)
    first = _salesforce_post(world, [update, update])
    assert first.status_code == 200, first.text
    assert first.json()["reread"] == 1
    assert first.json()["duplicates"] == 1
    assert _salesforce_post(world, [update]).json()["duplicates"] == 1
    older = _cdc(base + 1, "UPDATE", "Task", task, base - 1000)
    assert _salesforce_post(world, [older]).json()["stale"] == 1
    # A delete, then an older update arriving late: the record stays deleted.
    gone = _salesforce_post(world, [_cdc(base + 2, "DELETE", "Task", task, base + 5000)])
    assert gone.json()["deleted"] == 1
    late = _salesforce_post(world, [_cdc(base + 3, "UPDATE", "Task", task, base + 4000)]).json()
    assert late["stale"] == 1
    assert late["reread"] == 0
    # Our own pushed fields coming back are not events; an overflow names nothing to read.
    own = _cdc(base + 4, "UPDATE", "Contact", task, base + 6000)
    own["data"]["payload"]["ChangeEventHeader"]["changedFields"] = ["CEM_Churn_Flag__c"]
    overflow = _cdc(base + 5, "GAP_OVERFLOW", "Contact", task, base + 6000)
    assert _salesforce_post(world, [own, overflow, {"junk": 1}]).json()["ignored"] == 3


def test_hubspot_duplicates_stale_events_and_own_writes(world: World) -> None:
    stores = services_of(world.app).sync_stores()
    links = stores.records.crm_ids(HS, list(stores.scores.latest()))
    contact = next(crm_id for kind, crm_id in links.values() if kind == "contacts")
    base = _now_ms()
    event = {
        "eventId": base,
        "subscriptionType": "contact.propertyChange",
        "objectId": int(contact),
        "propertyName": "firstname",
        "occurredAt": base,
    }
    first = _hubspot_post(world, [event, event, {**event, "eventId": base + 1}])
    assert first.status_code == 200, first.text
    assert first.json()["duplicates"] == 1
    assert first.json()["reread"] == 1
    older = {**event, "eventId": base + 2, "occurredAt": base - 10}
    assert _hubspot_post(world, [older]).json()["stale"] == 1
    own = {**event, "eventId": base + 3, "propertyName": "cem_churn_flag", "occurredAt": base + 1}
    assert _hubspot_post(world, [own]).json()["ignored"] == 1


def test_bad_signatures_stale_timestamps_and_unknown_connections(world: World) -> None:
    events = [_cdc(1, "UPDATE", "Task", "00T000000000001AAA", 1)]
    forged = _salesforce_post(world, events, secret="whsec_" + "QUJD" * 8)
    assert forged.status_code == 401
    assert forged.headers["content-type"].startswith("application/problem+json")
    assert _salesforce_post(world, events, age=600).status_code == 401
    hs_event = [{"eventId": 1, "subscriptionType": "contact.creation", "objectId": 1}]
    assert _hubspot_post(world, hs_event, **{"X-HubSpot-Signature-v3": "Zm9v"}).status_code == 401
    stale = _hubspot_post(world, hs_event, **{"X-HubSpot-Request-Timestamp": "1000"})
    assert stale.status_code == 401
    missing = httpx.post(
        f"{world.service}/v1/webhooks/salesforce?connection=nope", content=b"[]", headers=JSON
    )
    # Unknown or wrong-kind connections answer like a bad signature: names cannot be probed.
    assert missing.status_code == 401
    wrong_kind = httpx.post(
        f"{world.service}/v1/webhooks/hubspot?connection={SF}", content=b"[]", headers=JSON
    )
    assert wrong_kind.status_code == 401
    # The deprecated path is the same handler.
    old = httpx.post(f"{world.service}/v1/crm-events/hubspot/{HS}", content=b"[]", headers=JSON)
    assert old.status_code == 401
    # POST /v1/webhooks/{kind} for a kind no registered connector has: a 404 problem.
    unknown = httpx.post(f"{world.service}/v1/webhooks/pipedrive", content=b"[]", headers=JSON)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert "pipedrive" in unknown.json()["detail"]


def test_a_failed_delivery_is_processed_again_on_retry(world: World) -> None:
    """Events are remembered only once applied: the CRM's retry after a 503 is not a duplicate."""
    task = _first_task(world)
    # A minute ahead: after the delete the test above stamped 5 s ahead on the same task.
    base = _now_ms() + 60_000
    event = _cdc(base, "UPDATE", "Task", task, base)
    # A spent daily allocation is never retried by the adapter: the delivery fails at once.
    rules = [{"route": "* /services/data/*", "quota_exhausted": 1.0}]
    sf_admin = world.sandbox.info["salesforce"]
    tls = ssl.create_default_context(cafile=sf_admin["ca_cert"])
    with httpx.Client(verify=tls, trust_env=False, timeout=30) as client:
        client.put(f"{sf_admin['admin_url']}/faults", json={"name": "t", "rules": rules})
        try:
            assert _salesforce_post(world, [event]).status_code == 503
        finally:
            client.put(f"{sf_admin['admin_url']}/faults/none")
    again = _salesforce_post(world, [event])
    assert again.status_code == 200, again.text
    assert again.json()["duplicates"] == 0
    assert again.json()["reread"] == 1
