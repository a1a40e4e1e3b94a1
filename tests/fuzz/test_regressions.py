"""One test per bug the fuzz suite found, so none comes back. (The Salesforce id one is in
test_soql_injection.py, the webhook event shapes in test_webhook_input.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from adapters.hubspot.webhooks import notices
from adapters.registry import connection_settings
from service.api.problems import PROBLEM_JSON
from service.config import Settings
from service.main import create_app
from service.realtime.changes import Inbox
from service.store.keys import Scope
from tests.api.test_errors import assert_problem
from tests.conftest import make_key
from tests.fuzz.conftest import count_requests
from tests.security.hubspot_signing import signed_headers

SECRET = "regression-secret"


@pytest.fixture
def app_client(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("regressions") / "cem.db"
    settings = Settings(
        database_url=SecretStr(f"sqlite:///{db}"),
        log_format="text",  # type: ignore[arg-type]
        # Configured but unusable: no base URL, so building its adapters fails.
        connections={
            "hs": connection_settings(kind="hubspot", webhook_secret=SecretStr(SECRET)),
            "sf": connection_settings(kind="salesforce"),
        },
        jobs={"enabled": False},  # type: ignore[arg-type]
        webhooks={"enabled": False},  # type: ignore[arg-type]
    )
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    with client, count_requests(client, request):
        yield client


def test_an_unbuildable_connection_is_a_problem_not_a_500(app_client: TestClient) -> None:
    """Was: CrmConfigError raised outside the routes' try → 500 with a traceback in the log."""
    headers = {"X-API-Key": make_key(app_client, Scope.WRITE)}
    message = {"connection": "sf", "customer": "003000000000001AAA", "id": "m-1"}
    message |= {"channel": "chat", "text": "hello"}
    body = assert_problem(app_client.post("/v1/interactions", json=message, headers=headers), 502)
    assert "base_url" in str(body["detail"])
    events = json.dumps([{"eventId": 7, "subscriptionType": "contact.creation", "objectId": 1}])
    url = str(app_client.base_url.join("/v1/crm-events/hubspot/hs"))
    signed = signed_headers(SECRET, "POST", url, events.encode())
    response = app_client.post("/v1/crm-events/hubspot/hs", content=events, headers=signed)
    assert_problem(response, 502)  # HubSpot retries a 5xx delivery: right once it is fixed


def test_events_without_an_event_id_are_not_duplicates_of_each_other() -> None:
    """Was: a missing eventId counted as the id "", so every later one was dropped as a
    duplicate of the first. Now an event without an id is ignored (HubSpot always sends one),
    and it never shadows the events that have one."""
    events = [
        {"subscriptionType": "contact.creation", "objectId": 1},
        {"subscriptionType": "contact.creation", "objectId": 2},
        {"subscriptionType": "contact.creation", "objectId": 3, "eventId": 7},
        {"subscriptionType": "contact.creation", "objectId": 4, "eventId": 8},
    ]
    found, ignored = notices(events, frozenset())
    changes = Inbox().plan("hs", found, ignored)
    assert changes.duplicates == 0
    assert changes.ignored == 2
    assert sorted(changes.reread["contacts"]) == ["3", "4"]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v1/keys", "GET, POST"),
        ("/v1/webhooks/subscriptions/" + "0" * 32, "DELETE, GET"),
        ("/healthz", "GET"),
    ],
)
def test_405_names_every_method_of_the_path(
    app_client: TestClient, path: str, allowed: str
) -> None:
    """Was: Starlette listed only the first matching route's methods (Allow: POST)."""
    response = app_client.request("PATCH", path)
    assert_problem(response, 405)
    assert response.headers["allow"] == allowed


def test_the_openapi_document_describes_errors_as_problems(app_client: TestClient) -> None:
    """Was: 422 documented as FastAPI's HTTPValidationError (application/json), never sent."""
    document = app_client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if operation.get("security"):
                assert {"401", "403", "429"} <= responses.keys(), (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415", "422"} <= responses.keys(), (method, path)
            for status, response in responses.items():
                if status[0] in "45":
                    assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)


@pytest.mark.parametrize("blank", ["\x85", " ", "\u2003\t", "\u3000"])
def test_a_whitespace_only_customer_is_422_not_500(app_client: TestClient, blank: str) -> None:
    """Was (schemathesis, customer "\\x85"): passed the API's min_length, then the domain model
    stripped it to "" and refused it inside the route: 500."""
    headers = {"X-API-Key": make_key(app_client, Scope.WRITE)}
    message = {"connection": "sf", "customer": blank, "id": "m-2", "channel": "chat"}
    message["text"] = "hello"
    body = assert_problem(app_client.post("/v1/interactions", json=message, headers=headers), 422)
    assert "body.customer" in str(body["detail"])
    message |= {"customer": "003000000000001AAA", "text": blank}
    body = assert_problem(app_client.post("/v1/interactions", json=message, headers=headers), 422)
    assert "body.text" in str(body["detail"])
