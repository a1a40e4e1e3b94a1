"""Hostile bodies against every operation that takes one: each answer is a 4xx problem (never a
5xx, a RecursionError or a stack trace), sent before any work is done, and never echoes the input.

The operations come from the app's own OpenAPI document, so a new route is attacked too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import ApiSettings, Settings
from service.main import create_app
from service.store.keys import Scope
from tests.api.test_errors import assert_problem
from tests.conftest import make_key
from tests.fuzz.conftest import count_requests
from tests.security.test_route_scopes import PATH_VALUES, concrete

LIMIT = 262_144  # a smaller body limit keeps these tests cheap; the default is 1 MiB
DEPTH = 40_000  # far past Python's recursion limit (1,000), under the body limit


@pytest.fixture(scope="module")
def small_limit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("bad-input") / "cem.db"
    settings = Settings(
        database_url=f"sqlite:///{db}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        api=ApiSettings(max_body_bytes=LIMIT),
        jobs={"enabled": False},  # type: ignore[arg-type]
        webhooks={"enabled": False},  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def hostile(small_limit: TestClient, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    with count_requests(small_limit, request):
        yield small_limit


def _body_operations() -> list[tuple[str, str]]:
    settings = Settings(database_url="sqlite:///:memory:", log_level="WARNING")  # type: ignore[arg-type]
    paths = create_app(settings).openapi()["paths"]
    found = [
        (method.upper(), path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert len(found) >= 5, found
    return sorted(found)


OPERATIONS = _body_operations()
IDS = [f"{m} {p}" for m, p in OPERATIONS]


def _admin(client: TestClient) -> dict[str, str]:
    return {"X-API-Key": make_key(client, Scope.ADMIN), "Content-Type": "application/json"}


def _problem_before_work(client: TestClient, method: str, path: str, body: object) -> int:
    """Send `body` (bytes or an iterator of chunks); the answer must be a 4xx problem."""
    response = client.request(
        method,
        concrete(path),
        content=body,
        headers=_admin(client),  # type: ignore[arg-type]
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    assert_problem(response, response.status_code)
    assert len(response.content) < 4096, "an error answer must not echo the input"
    return response.status_code


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_invalid_utf8_is_400(hostile: TestClient, method: str, path: str) -> None:
    status = _problem_before_work(hostile, method, path, b'{"text": "caf\xe9 \xff\xfe"}')
    assert status in {400, 401}  # 401: a signed route checks its signature first


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_deep_nesting_is_refused_without_recursion(
    hostile: TestClient, method: str, path: str
) -> None:
    arrays = b"[" * DEPTH + b"]" * DEPTH
    objects = b'{"a":' * DEPTH + b"1" + b"}" * DEPTH
    for body in (arrays, objects, b'{"text": ' + arrays + b"}"):
        assert _problem_before_work(hostile, method, path, body) in {400, 401, 422}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_streamed_oversized_body_is_413(hostile: TestClient, method: str, path: str) -> None:
    # No Content-Length: the guard has to count the chunks as they arrive.
    chunks = iter([b'{"text": "', b"x" * LIMIT, b'"}'])
    assert _problem_before_work(hostile, method, path, chunks) == 413


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_huge_strings_are_bounded(hostile: TestClient, method: str, path: str) -> None:
    """A string filling the body limit, in every field name the API uses, is refused (or
    accepted) cheaply; the answer never carries it back."""
    huge = "é" * (LIMIT // 2 - 200)  # two bytes each: just under the limit
    for field in ("text", "name", "connection", "customer", "id", "url", "description"):
        body = ('{"' + field + '": "' + huge + '"}').encode()
        assert len(body) < LIMIT
        response = hostile.request(method, concrete(path), content=body, headers=_admin(hostile))
        assert response.status_code < 500, response.text[:500]
        assert huge[:1000] not in response.text


def test_path_values_cover_every_parameter() -> None:
    # The helpers above fill path parameters from the scope test's table.
    assert {"key_id", "job_id", "subscription_id", "connection"} <= PATH_VALUES.keys()
