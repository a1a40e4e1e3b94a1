"""`POST /__sandbox/reset` empties the org; `?keep_data=true` keeps the records."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce import Salesforce

from sandbox.core.server import SandboxServer
from sandbox.data.generate import generate
from sandbox.salesforce.app import create_app, emulator_of


@pytest.fixture
def small() -> Iterator[SandboxServer]:
    app = create_app()
    emulator_of(app).load(generate(seed=3, customers=5))
    with SandboxServer(app, tls=True) as server:
        yield server


def _client(server: SandboxServer) -> Salesforce:
    admin = server.session()
    token = admin.post(f"{server.base_url}/__sandbox/salesforce/sessions", json={}).json()
    return Salesforce(
        instance_url=server.base_url, session_id=token["access_token"], session=server.session()
    )


def test_reset_keep_data_then_full_reset(small: SandboxServer) -> None:
    sf = _client(small)
    contacts = sf.query("SELECT COUNT() FROM Contact")["totalSize"]
    assert contacts > 0
    sf.toolingexecute(
        "sobjects/CustomField/",
        method="POST",
        json={"FullName": "Contact.Cx_Score__c", "Metadata": {"label": "CX", "type": "Number"}},
    )
    admin = small.session()
    kept = admin.post(f"{small.base_url}/__sandbox/reset", params={"keep_data": "true"}).json()
    assert kept["kept_data"] is True
    sf = _client(small)  # reset expires sessions either way
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == contacts
    assert "Cx_Score__c" in {f["name"] for f in sf.Contact.describe()["fields"]}
    admin.post(f"{small.base_url}/__sandbox/reset").raise_for_status()
    sf = _client(small)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    assert "Cx_Score__c" not in {f["name"] for f in sf.Contact.describe()["fields"]}
    users = sf.query("SELECT Username FROM User")["records"]
    assert [u["Username"] for u in users] == ["integration@cem-sandbox.example"]
    # The org works as new: writes and a fresh load.
    assert sf.Contact.create({"LastName": "After reset"})["success"] is True
