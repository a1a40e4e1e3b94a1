"""A running Salesforce emulator (loopback TLS) with 5,000 generated customers, shared by the
whole session (generating them takes seconds), and a fresh simple-salesforce client per test.
Tests therefore never assume the org holds only the generated records."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from fastapi import FastAPI
from simple_salesforce import Salesforce

from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.salesforce.app import create_app, emulator_of
from sandbox.salesforce.config import SalesforceConfig
from sandbox.salesforce.emulator import SalesforceEmulator

CUSTOMERS = 5000


@pytest.fixture(scope="session")
def sf_app() -> FastAPI:
    app = create_app(SalesforceConfig())
    emulator_of(app).load(generate(seed=11, customers=CUSTOMERS))
    return app


@pytest.fixture(scope="session")
def sf_server(sf_app: FastAPI) -> Iterator[SandboxServer]:
    with SandboxServer(sf_app, tls=True) as server:
        yield server


@pytest.fixture(scope="session")
def emulator(sf_app: FastAPI) -> SalesforceEmulator:
    return emulator_of(sf_app)


@pytest.fixture
def admin(sf_server: SandboxServer) -> Iterator[requests.Session]:
    """A plain session for `/__sandbox/` calls; resets faults, clock, log, quota (records
    stay) before and after the test."""
    session = sf_server.session()
    session.post(f"{sf_server.base_url}/__sandbox/reset?keep_data=true").raise_for_status()
    yield session
    session.post(f"{sf_server.base_url}/__sandbox/reset?keep_data=true").raise_for_status()
    session.close()


@pytest.fixture
def sf(sf_server: SandboxServer, admin: requests.Session) -> Salesforce:
    """The real client on a freshly minted session (instance_url + session_id)."""
    token = admin.post(f"{sf_server.base_url}/__sandbox/salesforce/sessions", json={}).json()
    return Salesforce(
        instance_url=token["instance_url"],
        session_id=token["access_token"],
        session=sf_server.session(),
    )
