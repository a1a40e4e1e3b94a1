"""The app's one state, `Services`: built by `create_app`, handed to routes as dependencies, its
clock the one routes ask for the time, its parts swappable, its repr free of secrets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.api.services import Services, replace_services, services_of
from service.clock import FixedClock
from service.config import Settings
from service.main import create_app
from service.store.database import make_engine
from service.store.keys import Scope
from tests.conftest import make_key

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_the_app_keeps_one_services_object_and_nothing_else(settings: Settings) -> None:
    app = create_app(settings)
    services = services_of(app)
    assert isinstance(services, Services)
    assert services.settings is settings
    assert set(vars(app.state)["_state"]) == {"services"}


def test_routes_ask_the_apps_clock_for_the_time(settings: Settings) -> None:
    clock = FixedClock(T0)
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as client:
        admin = {"Authorization": f"Bearer {make_key(client, Scope.ADMIN)}"}
        assert client.get("/v1/keys", headers=admin).status_code == 200
        (key,) = client.get("/v1/keys", headers=admin).json()["items"]
        assert key["last_used_at"] == "2026-11-22T12:00:00Z"  # stamped by auth, at T0
        report = client.get("/v1/reports/nps", headers=admin).json()
        assert (report["from"], report["to"]) == ("2025-11-22T12:00:00Z", "2026-11-22T12:00:00Z")


def test_a_swapped_part_is_what_the_routes_get(client: TestClient) -> None:
    dead = create_engine_that_never_answers()
    assert client.get("/readyz").status_code == 200
    replace_services(client.app, engine=dead)
    assert services_of(client.app).engine is dead
    assert client.get("/readyz").status_code == 503


def test_the_repr_names_parts_and_no_secret(tmp_path: Path) -> None:
    secret = "s3cr3t-encryption-key-0123456789abcdef"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        webhooks={"encryption_key": secret},  # type: ignore[arg-type]
    )
    text = repr(services_of(create_app(settings)))
    assert "engine" in text
    assert "webhook_vault" in text
    assert secret not in text
    assert str(tmp_path) not in text  # no part's own repr (the engine's URL) either


def create_engine_that_never_answers() -> Engine:
    return make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
