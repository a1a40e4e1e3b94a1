"""`POST /v1/syncs`, `GET /v1/jobs[/{id}]`, `POST /v1/jobs/{id}/cancel` and `…/resume`: auth,
paging, problems."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.registry import connection_settings
from service.api.services import replace_services, services_of
from service.config import Settings
from service.jobs import JobContext, JobQueue, JobRegistry, JobSettings
from service.main import create_app
from service.store.keys import Scope
from service.store.tables import JobState
from tests.conftest import make_key
from tests.fakes.jobs import InMemoryJobStore

PROBLEM = "application/problem+json"


def noop(ctx: JobContext, params: dict[str, Any]) -> None:
    ctx.progress(pulled=1)


def app_settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'jobs.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        connections={"acme": connection_settings(kind="salesforce")},  # type: ignore[dict-item]
        # The runner stays off so these tests see jobs exactly as the API left them.
        jobs=JobSettings(enabled=False),
    )


@pytest.fixture
def jobs_client(tmp_path: Path) -> Iterator[TestClient]:
    registry = JobRegistry()
    registry.register("sync", noop)
    registry.register("rescore", noop, exclusive=False)
    app = create_app(app_settings(tmp_path), job_registry=registry)
    # The HTTP side of jobs is the point here: the jobs live in memory (the store's own rules
    # are tested on both databases in tests/service/test_job_store_contract.py).
    replace_services(app, jobs=JobQueue(InMemoryJobStore(), registry))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def headers(client: TestClient, scope: Scope) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(client, scope)}"}


def queue_of(client: TestClient) -> JobQueue:
    queue: JobQueue = services_of(client.app).jobs
    return queue


def test_post_syncs_queues_one_sync_per_connection(jobs_client: TestClient) -> None:
    write = headers(jobs_client, Scope.WRITE)
    first = jobs_client.post("/v1/syncs", json={"connection": "acme"}, headers=write)
    assert first.status_code == 202
    body = first.json()
    assert body["kind"] == "sync"
    assert body["state"] == "queued"
    assert body["connection"] == "acme"
    assert body["params"] == {"full": False}
    assert first.headers["Location"] == f"/v1/jobs/{body['id']}"

    again = jobs_client.post("/v1/syncs", json={"connection": "acme"}, headers=write)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.json()["job_id"] == body["id"]


def test_post_syncs_problems(jobs_client: TestClient, tmp_path: Path) -> None:
    write = headers(jobs_client, Scope.WRITE)
    unknown = jobs_client.post("/v1/syncs", json={"connection": "nope"}, headers=write)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
    assert "nope" in unknown.json()["detail"]
    read_only = jobs_client.post(
        "/v1/syncs", json={"connection": "acme"}, headers=headers(jobs_client, Scope.READ)
    )
    assert read_only.status_code == 403
    assert jobs_client.post("/v1/syncs", json={"connection": "acme"}).status_code == 401
    extra = jobs_client.post("/v1/syncs", json={"connection": "acme", "x": 1}, headers=write)
    assert extra.status_code == 422


def test_post_syncs_without_a_sync_function_is_501(tmp_path: Path) -> None:
    app = create_app(app_settings(tmp_path), job_registry=JobRegistry())  # no kinds at all
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.post(
            "/v1/syncs", json={"connection": "acme"}, headers=headers(client, Scope.WRITE)
        )
        assert answer.status_code == 501
        assert answer.json()["type"] == "urn:cem:problem:job-kind-not-registered"
        listed = client.get("/v1/jobs", headers=headers(client, Scope.READ))
        assert listed.json()["items"] == []  # no job left behind that nothing would run


def test_get_a_job_and_404(jobs_client: TestClient) -> None:
    job = queue_of(jobs_client).submit("sync", connection="acme")
    read = headers(jobs_client, Scope.READ)
    got = jobs_client.get(f"/v1/jobs/{job.id}", headers=read)
    assert got.status_code == 200
    assert got.json()["id"] == job.id
    assert "checkpoint" not in got.json()
    missing = jobs_client.get(f"/v1/jobs/{'0' * 32}", headers=read)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert jobs_client.get("/v1/jobs/not-an-id", headers=read).status_code == 422


def test_list_jobs_pages_filters_and_sorts(jobs_client: TestClient) -> None:
    queue = queue_of(jobs_client)
    made = [queue.submit("rescore", connection="acme").id for _ in range(5)]
    sync = queue.submit("sync", connection="acme")
    queue.cancel(made[0])
    read = headers(jobs_client, Scope.READ)

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"kind": "rescore", "limit": 2, "sort": "created_at"}
        if cursor:
            params["cursor"] = cursor
        page = jobs_client.get("/v1/jobs", params=params, headers=read).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made  # every job once, oldest first, across pages

    newest_first = jobs_client.get("/v1/jobs", headers=read).json()["items"]
    assert newest_first[0]["id"] == sync.id
    assert len(newest_first) == 6
    cancelled = jobs_client.get("/v1/jobs", params={"state": "cancelled"}, headers=read).json()
    assert [item["id"] for item in cancelled["items"]] == [made[0]]
    other = jobs_client.get("/v1/jobs", params={"connection": "other"}, headers=read).json()
    assert other["items"] == []

    first = jobs_client.get("/v1/jobs", params={"limit": 1}, headers=read).json()
    foreign = jobs_client.get(
        "/v1/jobs", params={"cursor": first["next_cursor"], "sort": "kind"}, headers=read
    )
    assert foreign.status_code == 400
    assert foreign.headers["content-type"] == PROBLEM
    junk = jobs_client.get("/v1/jobs", params={"cursor": "!!!"}, headers=read)
    assert junk.status_code == 400
    bad_sort = jobs_client.get("/v1/jobs", params={"sort": "error"}, headers=read)
    assert bad_sort.status_code == 422


def test_cancel_a_job(jobs_client: TestClient) -> None:
    queue = queue_of(jobs_client)
    job = queue.submit("sync", connection="acme")
    write = headers(jobs_client, Scope.WRITE)
    assert (
        jobs_client.post(
            f"/v1/jobs/{job.id}/cancel", headers=headers(jobs_client, Scope.READ)
        ).status_code
        == 403
    )
    answer = jobs_client.post(f"/v1/jobs/{job.id}/cancel", headers=write)
    assert answer.status_code == 202
    assert answer.json()["state"] == "cancelled"
    again = jobs_client.post(f"/v1/jobs/{job.id}/cancel", headers=write)
    assert again.status_code == 202  # idempotent

    done = queue.submit("rescore")
    (claimed,) = queue.repository.claim("w", done.created_at, 1)
    queue.repository.finish(
        claimed.id, "w", JobState.SUCCEEDED, done.created_at,
        progress={}, checkpoint={},
    )  # fmt: skip
    finished = jobs_client.post(f"/v1/jobs/{done.id}/cancel", headers=write)
    assert finished.status_code == 409
    assert finished.headers["content-type"] == PROBLEM
    missing = jobs_client.post(f"/v1/jobs/{'0' * 32}/cancel", headers=write)
    assert missing.status_code == 404


def test_the_apps_runner_runs_a_submitted_sync(tmp_path: Path) -> None:
    """End to end: the lifespan starts the runner; a sync posted over HTTP runs to success."""
    registry = JobRegistry()
    registry.register("sync", noop)
    settings = app_settings(tmp_path).model_copy(
        update={"jobs": JobSettings(poll_seconds=0.05, heartbeat_seconds=0.05)}
    )
    with TestClient(create_app(settings, job_registry=registry)) as client:
        read = headers(client, Scope.READ)
        job = client.post(
            "/v1/syncs", json={"connection": "acme"}, headers=headers(client, Scope.WRITE)
        ).json()
        deadline = time.monotonic() + 20
        while (body := client.get(f"/v1/jobs/{job['id']}", headers=read).json())["state"] in (
            "queued",
            "running",
        ):
            assert time.monotonic() < deadline, "the runner never finished the job"
            time.sleep(0.05)
    assert body["state"] == "succeeded"
    assert body["progress"] == {"pulled": 1}


def test_resume_a_paused_job(jobs_client: TestClient) -> None:
    queue = queue_of(jobs_client)
    job = queue.submit("sync", connection="acme")
    (claimed,) = queue.repository.claim("w", job.created_at, 1)
    queue.repository.finish(claimed.id, "w", JobState.PAUSED, job.created_at, progress={},
                            checkpoint={"page": 3})  # fmt: skip
    write = headers(jobs_client, Scope.WRITE)
    resumed = jobs_client.post(f"/v1/jobs/{job.id}/resume", headers=write)
    assert resumed.status_code == 202
    assert resumed.json()["state"] == "queued"
    assert queue.repository.get(job.id).checkpoint == {"page": 3}  # type: ignore[union-attr]
    again = jobs_client.post(f"/v1/jobs/{job.id}/resume", headers=write)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert jobs_client.post(f"/v1/jobs/{'0' * 32}/resume", headers=write).status_code == 404


def test_a_cancelled_sync_resumes_from_its_checkpoint(jobs_client: TestClient) -> None:
    """Issue 16: a cancelled job could not be resumed, and nothing said how to start again."""
    queue = queue_of(jobs_client)
    write = headers(jobs_client, Scope.WRITE)
    job = queue.submit("sync", connection="acme")
    (claimed,) = queue.repository.claim("w", job.created_at, 1)
    queue.repository.finish(claimed.id, "w", JobState.CANCELLED, job.created_at,
                            progress={"pulled": 5}, checkpoint={"as_of": "x"},
                            error="cancelled on request")  # fmt: skip
    resumed = jobs_client.post(f"/v1/jobs/{job.id}/resume", headers=write)
    assert resumed.status_code == 202, resumed.text
    body = resumed.json()
    assert (body["state"], body["error"], body["finished_at"]) == ("queued", None, None)
    assert body["cancel_requested"] is False
    stored = queue.repository.get(job.id)
    assert stored is not None
    assert stored.checkpoint == {"as_of": "x"}
    assert stored.progress == {"pulled": 5}

    # Cancelled again, and meanwhile a new sync of the same connection was started: the old
    # one cannot join it (one sync per connection); the problem names the active one.
    jobs_client.post(f"/v1/jobs/{job.id}/cancel", headers=write)
    newer = jobs_client.post("/v1/syncs", json={"connection": "acme"}, headers=write).json()
    conflict = jobs_client.post(f"/v1/jobs/{job.id}/resume", headers=write)
    assert conflict.status_code == 409
    assert conflict.json()["type"].endswith("job-conflict")
    assert conflict.json()["job_id"] == newer["id"]


def test_a_finished_job_is_not_resumed_and_the_problem_says_how_to_start_again(
    jobs_client: TestClient,
) -> None:
    queue = queue_of(jobs_client)
    job = queue.submit("sync", connection="acme")
    (claimed,) = queue.repository.claim("w", job.created_at, 1)
    queue.repository.finish(claimed.id, "w", JobState.SUCCEEDED, job.created_at, progress={},
                            checkpoint={})  # fmt: skip
    answer = jobs_client.post(
        f"/v1/jobs/{job.id}/resume", headers=headers(jobs_client, Scope.WRITE)
    )
    assert answer.status_code == 409
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["type"].endswith("job-not-resumable")
    assert problem["start_with"] == "POST /v1/syncs"
    assert "start a new one with POST /v1/syncs" in problem["detail"]


def test_the_default_app_has_a_sync_kind(tmp_path: Path) -> None:
    app = create_app(app_settings(tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.post(
            "/v1/syncs", json={"connection": "acme"}, headers=headers(client, Scope.WRITE)
        )
        assert answer.status_code == 202
