"""`DELETE /v1/customers/{id}` and `POST /v1/customers/{id}/rescore`: auth, scopes, problems,
and the job they queue (the runner is off: the jobs are seen as the API left them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.services import services_of
from service.config import Settings
from service.jobs import JobSettings
from service.main import create_app
from service.store.database import session_scope
from service.store.keys import Scope
from service.store.tables import CrmLink, Customer, EntityType, Job, JobState
from tests.conftest import make_key

PROBLEM = "application/problem+json"
UNKNOWN = "0" * 32


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'customers.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        jobs=JobSettings(enabled=False),
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def headers(client: TestClient, scope: Scope) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(client, scope)}"}


def a_customer(client: TestClient) -> str:
    with session_scope(services_of(client.app).engine) as session:
        customer = Customer(display_name="Mai Tran", email="mai@example.test")
        session.add(customer)
        session.add(
            CrmLink(
                entity_type=EntityType.CUSTOMER.value,
                entity_id=customer.id,
                connection="org",
                crm_object="Contact",
                crm_id="003000000000001AAA",
            )
        )
        return customer.id


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", f"/v1/customers/{UNKNOWN}"), ("POST", f"/v1/customers/{UNKNOWN}/rescore")],
)
def test_an_unknown_customer_is_a_404_problem(api: TestClient, method: str, path: str) -> None:
    response = api.request(method, path, headers=headers(api, Scope.ADMIN))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert UNKNOWN in response.json()["detail"]


def test_a_malformed_id_is_a_problem_not_a_500(api: TestClient) -> None:
    response = api.delete("/v1/customers/not-an-id", headers=headers(api, Scope.ADMIN))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)


def test_erasure_needs_the_admin_scope(api: TestClient) -> None:
    customer = a_customer(api)
    assert api.delete(f"/v1/customers/{customer}").status_code == 401
    for scope in (Scope.READ, Scope.WRITE):
        refused = api.delete(f"/v1/customers/{customer}", headers=headers(api, scope))
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith(PROBLEM)
    # Nothing was queued by the refused calls.
    assert api.get("/v1/jobs", headers=headers(api, Scope.READ)).json()["items"] == []


def test_rescore_needs_the_write_scope(api: TestClient) -> None:
    customer = a_customer(api)
    path = f"/v1/customers/{customer}/rescore"
    assert api.post(path, headers=headers(api, Scope.READ)).status_code == 403
    accepted = api.post(path, headers=headers(api, Scope.WRITE))
    assert accepted.status_code == 202
    assert accepted.json()["kind"] == "rescore"


def test_delete_queues_one_erase_job_and_a_repeat_answers_with_it(api: TestClient) -> None:
    customer = a_customer(api)
    admin = headers(api, Scope.ADMIN)
    first = api.delete(f"/v1/customers/{customer}", headers=admin)
    assert first.status_code == 202
    body = first.json()
    assert (body["kind"], body["state"], body["params"]) == (
        "erase",
        "queued",
        {"customer_id": customer},
    )
    assert first.headers["location"] == f"/v1/jobs/{body['id']}"
    again = api.delete(f"/v1/customers/{customer}", headers=admin)
    assert again.status_code == 202
    assert again.json()["id"] == body["id"]
    # While it is being erased, the customer cannot be rescored (that would write again).
    conflict = api.post(f"/v1/customers/{customer}/rescore", headers=admin)
    assert conflict.status_code == 409
    assert conflict.json()["job_id"] == body["id"]


def test_a_paused_erasure_is_resumed_by_another_delete(api: TestClient) -> None:
    customer = a_customer(api)
    admin = headers(api, Scope.ADMIN)
    job_id = api.delete(f"/v1/customers/{customer}", headers=admin).json()["id"]
    with session_scope(services_of(api.app).engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.state = JobState.PAUSED.value
        session.add(job)
    resumed = api.delete(f"/v1/customers/{customer}", headers=admin)
    assert resumed.status_code == 202
    assert (resumed.json()["id"], resumed.json()["state"]) == (job_id, "queued")
