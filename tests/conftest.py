"""Shared fixtures: databases (SQLite and the real PostgreSQL), the app, API keys.

PostgreSQL comes from CEM_TEST_POSTGRES_URL (the Makefile points it at this machine's server).
Each test session gets its own freshly created database, dropped at the end, so parallel runs
never see each other's rows. With CI=true an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from service.api.services import services_of
from service.config import Settings
from service.main import create_app
from service.store.database import make_engine, upgrade
from service.store.keys import ApiKeyRepository, Scope

POSTGRES_ENV = "CEM_TEST_POSTGRES_URL"
REDIS_ENV = "CEM_TEST_REDIS_URL"
ENABLE_HINT = (
    f"set {POSTGRES_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test "
    "(make test does) to run the PostgreSQL tests"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL database for this test session."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if _in_ci():
            pytest.fail(f"CI=true but {POSTGRES_ENV} is not set")
        pytest.skip(ENABLE_HINT)
    url = make_url(base)
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"cem_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        message = f"PostgreSQL at {url.host}:{url.port} is unreachable ({error.__class__.__name__})"
        if _in_ci():
            pytest.fail(f"{message}; CI requires it")
        pytest.skip(f"{message}; {ENABLE_HINT}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each database test runs twice: on a SQLite file and on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cem.db'}"
        return
    base: str = request.getfixturevalue("postgres_url")
    # A fresh schema per test keeps tests independent inside the session's database.
    schema = f"t_{uuid.uuid4().hex[:10]}"
    dsn = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on each database."""
    eng = make_engine(database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an app on a SQLite file (API tests that do not concern the database)."""
    return Settings(database_url=f"sqlite:///{tmp_path / 'api.db'}", log_format="text")  # type: ignore[arg-type]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def make_key(client: TestClient, *scopes: Scope) -> str:
    """Create a key with `scopes` directly in the app's database."""
    repo: ApiKeyRepository = services_of(client.app).keys
    return repo.create("test", list(scopes)).key


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(client, Scope.ADMIN)}"}


@pytest.fixture
def read_headers(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(client, Scope.READ)}"}


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A URL to the Redis that shares counts between workers (CEM_TEST_REDIS_URL); with CI=true
    a missing or unreachable server fails the run instead of skipping."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        if _in_ci():
            pytest.fail(f"CI=true but {REDIS_ENV} is not set")
        pytest.skip(f"set {REDIS_ENV}=redis://127.0.0.1:6379/15 (make test does)")
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        message = f"Redis at {url} is unreachable ({error.__class__.__name__})"
        if _in_ci():
            pytest.fail(f"{message}; CI requires it")
        pytest.skip(message)
    finally:
        client.close()
    return url
