"""`/composite` with references and all-or-none, `/composite/batch`, and the concurrency cap."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sandbox.core.server import SandboxServer
from sandbox.salesforce.app import create_app, emulator_of
from sandbox.salesforce.config import SalesforceConfig

V = "/services/data/v59.0"


def _sub(
    ref: str, method: str, url: str, body: dict[str, object] | None = None
) -> dict[str, object]:
    item: dict[str, object] = {"referenceId": ref, "method": method, "url": V + url}
    if body is not None:
        item["body"] = body
    return item


def test_composite_references_earlier_results_and_counts_once(sf: Salesforce) -> None:
    name = f"Composite {uuid.uuid4().hex[:6]}"
    before = sf.limits()["DailyApiRequests"]["Remaining"]
    response = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": False,
            "compositeRequest": [
                _sub("acct", "POST", "/sobjects/Account/", {"Name": name}),
                _sub(
                    "person",
                    "POST",
                    "/sobjects/Contact/",
                    {"LastName": "Lê", "AccountId": "@{acct.id}"},
                ),
                _sub("read", "GET", "/sobjects/Contact/@{person.id}?fields=AccountId,Name"),
                _sub("find", "GET", f"/query/?q=SELECT+Id+FROM+Account+WHERE+Name='{name}'"),
            ],
        },
    )["compositeResponse"]
    assert [r["httpStatusCode"] for r in response] == [201, 201, 200, 200]
    account_id = response[0]["body"]["id"]
    assert response[2]["body"]["AccountId"] == account_id
    assert response[3]["body"]["records"][0]["Id"] == account_id
    # limits() itself is one call; the composite with four sub-requests is one more.
    assert sf.limits()["DailyApiRequests"]["Remaining"] == before - 2


def test_composite_all_or_none_rolls_back(sf: Salesforce) -> None:
    name = f"Rolled back {uuid.uuid4().hex[:6]}"
    response = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": True,
            "compositeRequest": [
                _sub("acct", "POST", "/sobjects/Account/", {"Name": name}),
                _sub("bad", "POST", "/sobjects/Contact/", {"FirstName": "no last name"}),
                _sub("after", "GET", "/sobjects/Account/@{acct.id}"),
            ],
        },
    )["compositeResponse"]
    assert [r["httpStatusCode"] for r in response] == [400, 400, 400]
    assert response[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert response[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query(f"SELECT COUNT() FROM Account WHERE Name = '{name}'")["totalSize"] == 0
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful(
            "composite",
            method="POST",
            json={"compositeRequest": [_sub(f"r{i}", "GET", "/limits/") for i in range(26)]},
        )
    assert "Maximum number of subrequests exceeded" in caught.value.content[0]["message"]


def test_composite_batch_halts_on_error(sf: Salesforce) -> None:
    response = sf.restful(
        "composite/batch",
        method="POST",
        json={
            "haltOnError": True,
            "batchRequests": [
                {
                    "method": "POST",
                    "url": "v59.0/sobjects/Contact/",
                    "richInput": {"LastName": "Ok"},
                },
                {"method": "GET", "url": "v59.0/sobjects/Contact/003000000000000AAA"},
                {"method": "GET", "url": "v59.0/limits/"},
            ],
        },
    )
    assert response["hasErrors"] is True
    assert [r["statusCode"] for r in response["results"]] == [201, 404, 412]
    assert response["results"][2]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"


@pytest.fixture
def capped() -> Iterator[tuple[SandboxServer, str]]:
    app = create_app(SalesforceConfig(concurrent_request_limit=2))
    emu = emulator_of(app)
    with SandboxServer(app, tls=True) as server:
        yield server, emu.sessions.issue(emu.integration_user_id).token


def test_concurrent_long_requests_past_the_cap_are_refused(
    capped: tuple[SandboxServer, str],
) -> None:
    server, token = capped
    admin = server.session()
    admin.put(
        f"{server.base_url}/__sandbox/faults",
        json={"rules": [{"route": "GET */limits*", "slow": 1, "slow_seconds": 1.0}]},
    ).raise_for_status()
    statuses: list[int] = []
    bodies: list[object] = []

    def call() -> None:
        response = server.session().get(
            f"{server.base_url}{V}/limits/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        statuses.append(response.status_code)
        bodies.append(response.json())

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 403]
    refused = bodies[statuses.index(403)]
    assert refused == [
        {
            "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
            "errorCode": "REQUEST_LIMIT_EXCEEDED",
        }
    ]
