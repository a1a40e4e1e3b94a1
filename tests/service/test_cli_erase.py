"""`cem customers erase ID` on both databases: one line out, one line on failure, nothing lost."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from service.cli import main
from service.store.database import session_scope
from service.store.tables import CrmLink, Customer, EntityType, ScoreHistory, utcnow


def a_customer(engine: Engine, *, linked: bool) -> str:
    with session_scope(engine) as session:
        customer = Customer(display_name="Lan Pham", email="lan@example.test")
        session.add(customer)
        session.add(ScoreHistory(customer_id=customer.id, as_of=utcnow(), scoring_version="test"))
        if linked:
            session.add(
                CrmLink(
                    entity_type=EntityType.CUSTOMER.value,
                    entity_id=customer.id,
                    connection="gone-crm",
                    crm_object="Contact",
                    crm_id="003000000000009AAA",
                )
            )
        return customer.id


def test_erase_from_the_cli(
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CEM_DATABASE_URL", database_url)
    customer = a_customer(engine, linked=False)
    assert main(["customers", "erase", customer]) == 0
    out = capsys.readouterr().out
    assert "0 CRM record(s) cleared" in out
    assert "2 row(s) deleted" in out
    with Session(engine) as session:
        assert session.get(Customer, customer) is None
    # Erased means unknown.
    assert main(["customers", "erase", customer]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no customer with id" in err


def test_an_unreachable_crm_stops_the_erasure_before_anything_is_deleted(
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CEM_DATABASE_URL", database_url)
    customer = a_customer(engine, linked=True)
    assert main(["customers", "erase", customer]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "gone-crm" in err
    assert "Traceback" not in err
    with Session(engine) as session:
        assert session.get(Customer, customer) is not None
