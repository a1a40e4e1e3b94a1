"""The committed OpenAPI document must be what the app produces (`make openapi` re-exports)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from service.config import Settings
from service.main import create_app
from service.openapi_doc import render_openapi


class Echo(BaseModel):
    said: str


COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_committed_document_matches_the_app() -> None:
    assert COMMITTED.exists(), "run `make openapi` and commit openapi/openapi.json"
    assert COMMITTED.read_text(encoding="utf-8") == render_openapi(), (
        "openapi/openapi.json is stale: run `make openapi` and commit the result"
    )


def test_drift_check_notices_a_changed_route(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/o.db"))  # type: ignore[arg-type]

    @app.post("/v1/echo")
    def echo(body: Echo) -> Echo:
        return body

    changed = json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert changed != COMMITTED.read_text(encoding="utf-8")
    assert "/v1/echo" in json.loads(changed)["paths"]


def test_document_declares_auth_and_problem_responses() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    schemes = document["components"]["securitySchemes"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(schemes)
    assert all(op.get("security") for op in document["paths"]["/v1/keys"].values())
