"""`POST /v1/score` is served by a lean route (service/api/lean_route.py). It must answer exactly
as FastAPI's own handling of the same endpoint does, mounted here at a second path, for good
and bad requests alike: same statuses, same problem documents, same profiles."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.lean_route import required_scope
from service.api.routes.score import router, score
from service.api.schemas.score import EXAMPLE_REQUEST, ScoreResponse
from service.store.keys import Scope
from tests.conftest import make_key

LEAN, STANDARD = "/v1/score", "/test/score-standard"


@pytest.fixture
def both(client: TestClient) -> TestClient:
    client.app.router.add_api_route(  # type: ignore[attr-defined]
        STANDARD, score, methods=["POST"], response_model=ScoreResponse
    )
    return client


def _answer(client: TestClient, path: str, **request: Any) -> tuple[int, str, Any]:
    response = client.post(path, **request)
    body = response.json()
    if isinstance(body, dict):
        body.pop("request_id", None)
    return response.status_code, response.headers["content-type"], body


def _with(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLE_REQUEST)
    body.update(changes)
    return body


CASES: dict[str, dict[str, Any]] = {
    "example": {"json": EXAMPLE_REQUEST},
    "fast sentiment": {"json": EXAMPLE_REQUEST, "params": {"sentiment": "fast"}},
    "unknown sentiment mode": {"json": EXAMPLE_REQUEST, "params": {"sentiment": "slow"}},
    "no body": {"content": b"", "headers": {"Content-Type": "application/json"}},
    "wrong types": {"json": _with(surveys=[{"kind": "nps", "value": "ten"}], as_of="soon")},
    "no customer": {"json": {"interactions": []}},
    "invalid UTF-8": {
        "content": b'{"customer": "caf\xe9 \xff"}',
        "headers": {"Content-Type": "application/json"},
    },
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_lean_route_answers_as_fastapi_does(both: TestClient, case: str) -> None:
    key = {"Authorization": f"Bearer {make_key(both, Scope.READ)}"}
    request = copy.deepcopy(CASES[case])
    request["headers"] = {**request.get("headers", {}), **key}
    lean = _answer(both, LEAN, **request)
    assert lean == _answer(both, STANDARD, **request)
    assert lean[0] == (200 if case in {"example", "fast sentiment"} else 400 if "UTF" in case
                       else 422)  # fmt: skip


@pytest.mark.parametrize(
    "content", [b'{"customer": ', b"[1, 2]"], ids=["invalid JSON", "not an object"]
)
def test_some_problems_differ_only_in_wording(both: TestClient, content: bytes) -> None:
    # Validating the bytes (JSON mode) words these two differently: "Invalid JSON: EOF while
    # parsing..." for FastAPI's "JSON decode error", "Input should be an object" for "...a
    # valid dictionary or object to extract fields from". Same status, kind and field.
    headers = {"Authorization": f"Bearer {make_key(both, Scope.READ)}",
               "Content-Type": "application/json"}  # fmt: skip
    lean, standard = (_answer(both, p, content=content, headers=headers) for p in (LEAN, STANDARD))
    assert lean[:2] == standard[:2] == (422, "application/problem+json")
    assert lean[2]["type"] == standard[2]["type"] == "urn:cem:problem:validation-error"
    assert lean[2]["errors"][0]["field"].split(".")[0] == "body"
    assert standard[2]["errors"][0]["field"].split(".")[0] == "body"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer cem_wrong"}, {"Authorization": "Basic dXNlcjpwYXNz"},
     {"X-API-Key": "cem_wrong"}],
    ids=["none", "wrong bearer", "basic", "wrong header key"],
)  # fmt: skip
def test_lean_route_refuses_keys_as_fastapi_does(both: TestClient, headers: dict[str, str]) -> None:
    lean = _answer(both, LEAN, json=EXAMPLE_REQUEST, headers=headers)
    assert lean == _answer(both, STANDARD, json=EXAMPLE_REQUEST, headers=headers)
    assert lean[0] == 401


def test_a_key_in_the_header_works_on_both(both: TestClient) -> None:
    headers = {"X-API-Key": make_key(both, Scope.READ)}
    assert _answer(both, LEAN, json=EXAMPLE_REQUEST, headers=headers)[0] == 200
    assert _answer(both, STANDARD, json=EXAMPLE_REQUEST, headers=headers)[0] == 200


def test_the_scope_comes_from_the_documented_signature() -> None:
    (route,) = [r for r in router.routes if getattr(r, "path", "") == "/v1/score"]
    assert required_scope(route.dependant) is Scope.READ  # type: ignore[attr-defined]
    assert type(route).__name__ == "LeanRoute"
