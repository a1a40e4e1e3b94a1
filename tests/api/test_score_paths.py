"""`POST /v1/score` answers the same whichever way it runs: texts never seen (thread pool, the
model may run), seen before (on the event loop, the caches answer), or the fast sentiment mode."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from bench.api.bodies import make_bodies
from service.api.schemas.score import ScoreRequest
from service.api.services import services_of
from service.api.stateless_scoring import needs_model


def test_cold_and_warm_answers_are_identical(
    client: TestClient, read_headers: dict[str, str]
) -> None:
    bodies: list[dict[str, Any]] = make_bodies(12, seed=1207)
    for mode in ("", "?sentiment=fast"):
        cold = [client.post("/v1/score" + mode, json=b, headers=read_headers) for b in bodies]
        assert all(r.status_code == 200 for r in cold), [r.text for r in cold]
        warm = [client.post("/v1/score" + mode, json=b, headers=read_headers) for b in bodies]
        assert [r.json() for r in warm] == [r.json() for r in cold]
    analyzer = services_of(client.app).analyzer_factory()
    parsed = [ScoreRequest.model_validate(b) for b in bodies]
    assert not any(needs_model(body, analyzer) for body in parsed)  # the warm path was taken
    unseen = make_bodies(1)[0]
    for item in unseen["interactions"]:
        item["text"] += " (never sent before)"
    assert needs_model(ScoreRequest.model_validate(unseen), analyzer)
