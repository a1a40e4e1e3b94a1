"""API keys at rest and in use: stored only as hashes, limited per key, refused when revoked."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.api.ratelimit import RateLimiter
from service.api.services import replace_services, services_of
from service.config import ApiSettings, Settings
from service.main import create_app
from service.store.database import make_engine, upgrade
from service.store.keys import ApiKeyRepository, Scope
from tests.api.test_errors import assert_problem
from tests.conftest import make_key

LIMIT = 5


def test_keys_are_stored_as_hashes_only(engine: object, database_url: str) -> None:
    repo = ApiKeyRepository(engine)  # type: ignore[arg-type]
    created = repo.create("ci", [Scope.WRITE])
    secret = created.key.split("_", 2)[2]
    with engine.connect() as conn:  # type: ignore[attr-defined]
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM api_keys"))]
    assert len(rows) == 1
    stored = rows[0]
    assert stored["key_hash"] == hashlib.sha256(created.key.encode()).hexdigest()
    assert all(secret not in str(value) for value in stored.values())
    assert secret not in repr(created)  # nor in logs that print the object
    assert repo.authenticate(created.key) is not None
    # One character changed (never to itself: a key ending in "0" once made this test flaky).
    altered = created.key[:-1] + ("1" if created.key.endswith("0") else "0")
    assert repo.authenticate(altered) is None


def test_the_database_file_never_holds_a_key(tmp_path: Path) -> None:
    db = tmp_path / "keys.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    keys = [ApiKeyRepository(engine).create(f"k{i}", [Scope.READ]).key for i in range(3)]
    engine.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # the file and any WAL/journal
    assert all(key.split("_", 2)[2].encode() not in raw for key in keys)


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'limit.db'}",  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        api=ApiSettings(rate_limit_per_minute=LIMIT),
        jobs={"enabled": False},  # type: ignore[arg-type]
        webhooks={"enabled": False},  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        # A frozen clock: no token comes back while the test runs, however slow the machine.
        limiter: RateLimiter = services_of(client.app).rate_limiter
        replace_services(
            client.app, rate_limiter=RateLimiter(limiter.per_minute, clock=lambda: 1000.0)
        )
        yield client


def test_rate_limit_is_per_key(limited: TestClient) -> None:
    first = {"X-API-Key": make_key(limited, Scope.READ)}
    second = {"X-API-Key": make_key(limited, Scope.READ)}
    statuses = [limited.get("/v1/jobs", headers=first).status_code for _ in range(LIMIT)]
    assert statuses == [200] * LIMIT
    over = limited.get("/v1/jobs", headers=first)
    body = assert_problem(over, 429)
    assert body["type"] == "urn:cem:problem:rate-limited"
    assert int(over.headers["Retry-After"]) >= 1
    # The other key has its own budget; public routes have none to spend.
    assert limited.get("/v1/jobs", headers=second).status_code == 200
    assert limited.get("/healthz").status_code == 200


def test_unknown_keys_do_not_spend_anyones_budget(limited: TestClient) -> None:
    key = {"X-API-Key": make_key(limited, Scope.READ)}
    forged = {"X-API-Key": key["X-API-Key"][:-4] + "0000"}
    for _ in range(LIMIT * 2):
        assert_problem(limited.get("/v1/jobs", headers=forged), 401)
    assert limited.get("/v1/jobs", headers=key).status_code == 200


def test_a_revoked_key_is_refused_at_once(limited: TestClient) -> None:
    admin = {"X-API-Key": make_key(limited, Scope.ADMIN)}
    reader = make_key(limited, Scope.READ)
    assert limited.get("/v1/jobs", headers={"X-API-Key": reader}).status_code == 200
    key_id = reader.split("_")[1]
    assert limited.delete(f"/v1/keys/{key_id}", headers=admin).status_code == 200
    assert_problem(limited.get("/v1/jobs", headers={"X-API-Key": reader}), 401)
