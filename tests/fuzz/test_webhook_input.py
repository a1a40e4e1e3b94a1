"""HubSpot deliveries in (`POST /v1/crm-events/hubspot/{connection}`) under attack.

Bad or missing signatures and timestamps outside the 5-minute window (replays) get 401;
malformed JSON and invalid UTF-8 get 400; wrong shapes get 422; and in every one of those cases
nothing is processed: the CRM connection is never even built. A property test then signs
arbitrary JSON: whatever arrives, the answer is never a 500.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from adapters.hubspot.webhooks import MAX_AGE_MS
from adapters.registry import connection_settings
from service.api.services import replace_services
from service.config import Settings
from service.main import create_app
from service.ports import CrmUnavailableError
from tests.api.test_errors import assert_problem
from tests.fuzz.conftest import count_requests
from tests.security.hubspot_signing import signed_headers

SECRET = "webhook-fuzz-secret"
PATH = "/v1/crm-events/hubspot/hs"
EVENT = {"eventId": 1, "subscriptionType": "contact.propertyChange", "objectId": 101}


class BuildSpy:
    """Stands in for the composition root's connection factory: records that processing began
    and fails the way a CRM outage does (the route turns that into a 503)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, name: str) -> Any:
        self.calls += 1
        raise CrmUnavailableError(f"connection {name}: not reachable in this test")


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("webhook-input") / "cem.db"
    config = Settings(
        database_url=SecretStr(f"sqlite:///{db}"),
        log_format="text",  # type: ignore[arg-type]
        connections={"hs": connection_settings(kind="hubspot", webhook_secret=SecretStr(SECRET))},
        jobs={"enabled": False},  # type: ignore[arg-type]
        webhooks={"enabled": False},  # type: ignore[arg-type]
    )
    with TestClient(create_app(config), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def spy(app_client: TestClient, request: pytest.FixtureRequest) -> Iterator[BuildSpy]:
    spy = BuildSpy()
    replace_services(app_client.app, build_connection=spy)
    with count_requests(app_client, request):
        yield spy


def _post(client: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(PATH, content=body, headers=headers)


def _sign(client: TestClient, body: bytes, timestamp_ms: int | None = None) -> dict[str, str]:
    return signed_headers(SECRET, "POST", str(client.base_url.join(PATH)), body, timestamp_ms)


def test_a_well_formed_delivery_is_processed(app_client: TestClient, spy: BuildSpy) -> None:
    # The control: the same route does reach the CRM when nothing is wrong.
    body = json.dumps([EVENT]).encode()
    assert_problem(_post(app_client, body, _sign(app_client, body)), 503)
    assert spy.calls == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-HubSpot-Signature-v3": "", "X-HubSpot-Request-Timestamp": ""},
        {"X-HubSpot-Signature-v3": "Zm9vYmFy", "X-HubSpot-Request-Timestamp": "now"},
        {"X-HubSpot-Signature-v3": "\u00e9\u00e9", "X-HubSpot-Request-Timestamp": "-1"},
    ],
    ids=["none", "empty", "not-a-timestamp", "negative-timestamp"],
)
def test_missing_or_garbage_signatures_are_401(
    app_client: TestClient, spy: BuildSpy, headers: dict[str, str]
) -> None:
    body = json.dumps([EVENT]).encode()
    # Header values travel as bytes: a non-ASCII one is sent as its UTF-8 bytes.
    sent: dict[str, Any] = {"Content-Type": "application/json"}
    sent.update({k: v.encode() for k, v in headers.items()})
    body_json = assert_problem(_post(app_client, body, sent), 401)
    assert body_json["type"] == "urn:cem:problem:bad-signature"
    assert spy.calls == 0


def test_a_signature_for_other_bytes_is_401(app_client: TestClient, spy: BuildSpy) -> None:
    body = json.dumps([EVENT]).encode()
    headers = _sign(app_client, body)
    tampered = body.replace(b"101", b"102")
    assert_problem(_post(app_client, tampered, headers), 401)
    wrong_secret = signed_headers(
        "not-the-secret", "POST", str(app_client.base_url.join(PATH)), body
    )
    assert_problem(_post(app_client, body, wrong_secret), 401)
    assert spy.calls == 0


@pytest.mark.parametrize("offset_ms", [-(MAX_AGE_MS + 1_000), MAX_AGE_MS + 1_000, -86_400_000])
def test_timestamps_outside_the_window_are_replays(
    app_client: TestClient, spy: BuildSpy, offset_ms: int
) -> None:
    """A correctly signed delivery, captured and sent again later (or stamped in the future)."""
    body = json.dumps([EVENT]).encode()
    stamp = int(time.time() * 1000) + offset_ms
    body_json = assert_problem(_post(app_client, body, _sign(app_client, body, stamp)), 401)
    assert "window" in str(body_json["detail"])
    assert spy.calls == 0


@pytest.mark.parametrize(
    "body",
    [b"", b"[", b"{not json", b"[1,]", b"\xff\xfe[]", b'[{"eventId": "caf\xe9"}]'],
    ids=["empty", "open-bracket", "garbage", "trailing-comma", "bom-bytes", "latin-1"],
)
def test_signed_malformed_bodies_are_400(
    app_client: TestClient, spy: BuildSpy, body: bytes
) -> None:
    assert_problem(_post(app_client, body, _sign(app_client, body)), 400)
    assert spy.calls == 0


WRONG_SHAPES: list[object] = [
    {"events": [EVENT]},
    "contact.creation",
    None,
    [1, 2, 3],
    [EVENT] * 101,
]
# Each of these events is ill-typed; it is ignored on its own (a delivery's good events still
# count), and never reaches the CRM.
BAD_EVENTS: list[list[object]] = [
    [{**EVENT, "objectId": {"id": 1}}],
    [{**EVENT, "objectId": "1 OR 1=1"}],
    [{**EVENT, "objectId": None}],
    [{**EVENT, "occurredAt": "yesterday"}],
    [{**EVENT, "eventId": True}],
    [{**EVENT, "eventId": 1.5}],
    [{**EVENT, "subscriptionType": ["contact.creation"]}],
    [{**EVENT, "eventId": 2, "occurredAt": [1]}],
]


@pytest.mark.parametrize("shape", WRONG_SHAPES, ids=[str(i) for i in range(len(WRONG_SHAPES))])
def test_signed_wrong_shapes_are_422_and_nothing_is_processed(
    app_client: TestClient, spy: BuildSpy, shape: object
) -> None:
    body = json.dumps(shape).encode()
    assert_problem(_post(app_client, body, _sign(app_client, body)), 422)
    assert spy.calls == 0


@pytest.mark.parametrize("events", BAD_EVENTS, ids=[str(i) for i in range(len(BAD_EVENTS))])
def test_signed_ill_typed_events_are_ignored_and_never_reach_the_crm(
    app_client: TestClient, spy: BuildSpy, events: list[object]
) -> None:
    body = json.dumps(events).encode()
    answer = _post(app_client, body, _sign(app_client, body))
    assert answer.status_code == 200, answer.text
    assert answer.json()["ignored"] == len(events)
    assert spy.calls == 0


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)
_EVENTS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "eventId": st.integers(0, 2**63) | st.text(max_size=5) | _JSON,
            "subscriptionType": st.sampled_from(
                ["contact.creation", "contact.deletion", "deal.propertyChange", "x.y", "contact"]
            )
            | _JSON,
            "objectId": st.integers(-5, 2**63) | st.text(max_size=30) | _JSON,
            "occurredAt": st.integers(0, 2**63) | st.text(max_size=10) | _JSON,
        },
    ),
    max_size=5,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=_EVENTS | _JSON)
def test_any_signed_json_gets_an_answer_not_a_500(
    app_client: TestClient, spy: BuildSpy, payload: object
) -> None:
    body = json.dumps(payload).encode()
    response = _post(app_client, body, _sign(app_client, body))
    # 200: nothing to act on; 503: the (stand-in) CRM was reached; 422: refused as a whole;
    # 400: NaN or Infinity, which JSON (RFC 8259) does not have.
    allowed = {200, 422, 503} | ({400} if b"NaN" in body or b"Infinity" in body else set())
    assert response.status_code in allowed, response.text
    if response.status_code != 200:
        assert_problem(response, response.status_code)


@pytest.mark.parametrize("depth", [1_000, 5_000, 100_000])
def test_deeply_nested_signed_json_is_400_not_500(
    app_client: TestClient, spy: BuildSpy, depth: int
) -> None:
    """Signed correctly, so it gets past the signature: json.loads used to raise
    RecursionError here (a 500)."""
    for body in (b"[" * depth + b"]" * depth, b'[{"a":' * depth + b"1" + b"}]" * depth):
        body_json = assert_problem(_post(app_client, body, _sign(app_client, body)), 400)
        assert "nested" in str(body_json["detail"])
    assert spy.calls == 0


@pytest.mark.parametrize(
    "stamp", [10**30, 2**63, int(time.time() * 1000) + 2 * 86_400_000], ids=["1e30", "2^63", "+2d"]
)
def test_event_times_far_ahead_are_ignored(
    app_client: TestClient, spy: BuildSpy, stamp: int
) -> None:
    """An occurredAt far in the future would make every later real event of the record look
    stale; such an event is ignored, and a real one afterwards is processed."""
    event = {**EVENT, "eventId": 9_000 + stamp % 1000, "objectId": 555, "occurredAt": stamp}
    body = json.dumps([event]).encode()
    answer = _post(app_client, body, _sign(app_client, body))
    assert answer.status_code == 200, answer.text
    assert answer.json()["ignored"] == 1
    assert spy.calls == 0
    real = {**event, "eventId": event["eventId"] + 1, "occurredAt": int(time.time() * 1000)}
    body = json.dumps([real]).encode()
    assert_problem(_post(app_client, body, _sign(app_client, body)), 503)  # reached the CRM
    assert spy.calls == 1
