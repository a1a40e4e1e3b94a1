"""One labelled churn model per person, on SQLite and PostgreSQL: a person with records in two
CRMs is judged by the model of the first of them (by name) that has one in use, with their record
there, whichever connection's sync scores them, so both CRMs get the same risk; a person only the
other CRM holds is judged by that CRM's own model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from service.config import Settings
from service.domain import Customer, SourceRef
from service.main import sync_stores
from service.scoring.churn.classifier import ChurnClassifier, train_churn_classifier
from service.scoring.churn.labelled import LabelledChurn
from service.scoring.churn.training import LabelRule, snapshot_table
from service.scoring.customer import ScoringModels
from service.usecases.sync import score
from tests.unit.scoring.builders import AS_OF, unhappy_stop_buying


@pytest.fixture(scope="module")
def classifier() -> ChurnClassifier:
    """A classifier for the routing under test (what it learned is not the point here):
    unhappy customers, low NPS and negative chats, stop buying."""
    customers, history, snaps = unhappy_stop_buying()
    table = snapshot_table(
        customers, snaps, horizon_days=60, label=LabelRule.NO_PURCHASE, history=history
    )
    features = table.drop(columns=["customer_id", "snapshot_at", "churned"])
    outcome = train_churn_classifier(features, table["churned"].to_numpy(), table["snapshot_at"])
    assert outcome.classifier is not None, outcome.reason
    return outcome.classifier


def model(classifier: ChurnClassifier, trained: str) -> LabelledChurn:
    return LabelledChurn(
        classifier=classifier,
        trained_at=datetime.fromisoformat(trained).replace(tzinfo=UTC),
        threshold=0.5,
        roc_auc=0.9,
    )


def contact(connection: str, crm_id: str, email: str) -> Customer:
    return Customer(
        id=crm_id,
        email=email,
        source=SourceRef(connection=connection, crm_object="contacts", crm_id=crm_id),
    )


def judged_by(scored: object) -> str:
    drivers = scored.churn.drivers  # type: ignore[attr-defined]
    (driver,) = [d for d in drivers if d.name == "judged_by_labelled_model"]
    return str(driver.text)


def test_a_person_in_two_crms_is_judged_by_one_model_in_both(
    engine: Engine, classifier: ChurnClassifier
) -> None:
    stores = sync_stores(
        Settings(database_url=engine.url.render_as_string(hide_password=False)),  # type: ignore[arg-type]
        engine,
    )
    stores.records.upsert("crm-a", [contact("crm-a", "a1", "lan@example.vn")])
    stores.records.upsert(
        "crm-b",
        [contact("crm-b", "b1", "lan@example.vn"), contact("crm-b", "b2", "minh@example.vn")],
    )
    lan = stores.records.known_customer("crm-a", "a1")
    minh = stores.records.known_customer("crm-b", "b2")
    assert lan == stores.records.known_customer("crm-b", "b1")
    first, second = model(classifier, "2026-05-01"), model(classifier, "2026-06-01")
    at_a = score(
        "crm-a",
        stores.records.history([lan], "crm-a"),
        stores,
        AS_OF,
        ScoringModels(labelled=first, labelled_elsewhere={"crm-b": second}),
    )
    at_b = score(
        "crm-b",
        stores.records.history([lan, minh], "crm-b"),
        stores,
        AS_OF,
        ScoringModels(labelled=second, labelled_elsewhere={"crm-a": first}),
    )
    # Lan is judged by crm-a's model (first by name) in both CRMs, with the same probability.
    assert "trained 2026-05-01" in judged_by(at_a[lan])
    assert judged_by(at_b[lan]) == judged_by(at_a[lan])
    assert at_b[lan].churn.probability == at_a[lan].churn.probability
    # Minh, only in crm-b, is judged by crm-b's own model.
    assert "trained 2026-06-01" in judged_by(at_b[minh])
