"""The churn-train use case on SQLite and PostgreSQL: outcomes and mapped CRM fields in the
store → a trained, stored model with its card → scoring judges by it and says so.

The records are generated here to check the mechanics (that a signal in a mapped field and in
raw contact counts reaches the model, and the model reaches the flags); the model's quality is
judged on real labelled data in bench/scoring, not here.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from adapters.registry import connection_settings
from service.api.services import services_of
from service.config import Settings
from service.domain import Channel, Customer, Direction, Interaction, SourceRef
from service.jobs import JobSettings
from service.main import create_app, sync_stores
from service.scoring.churn.training import TrainingPolicy
from service.store.churn_models import ChurnModelRepository
from service.store.keys import Scope
from service.store.records import RecordStore
from service.usecases.churn_training import train_churn
from service.usecases.models import scoring_models
from service.usecases.sync import score
from tests.conftest import make_key

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
N = 600


def _source(crm_object: str, crm_id: str) -> SourceRef:
    return SourceRef(connection="sf", crm_object=crm_object, crm_id=crm_id)


def _records(seed: int = 7) -> list[Customer | Interaction]:
    """Customers whose churn depends on their plan and on a fourth service call."""
    rnd = random.Random(seed)
    out: list[Customer | Interaction] = []
    for i in range(N):
        plan = rnd.choice(["basic", "pro"])
        calls = rnd.choice([0, 1, 2, 3, 4, 5])
        label_at = AS_OF - timedelta(days=rnd.randint(1, 700))
        risk = 0.1 + 0.25 * (plan == "basic") + 0.5 * (calls >= 4)
        churned = rnd.random() < risk
        out.append(
            Customer(
                id=f"C{i}",
                display_name=f"Customer {i}",
                churned=churned,
                churn_label_at=label_at,
                attributes={"plan": plan, "monthly_fee": 10.0 + rnd.random()},
                source=_source("Contact", f"C{i}"),
            )
        )
        for k in range(calls):
            out.append(
                Interaction(
                    id=f"I{i}-{k}",
                    customer_id=f"C{i}",
                    channel=Channel.CALL,
                    direction=Direction.INBOUND,
                    # Within the month before the outcome's feature cut (90 days before it).
                    occurred_at=label_at - timedelta(days=91 + k),
                    source=_source("Task", f"I{i}-{k}"),
                )
            )
    return out


def test_trained_model_is_stored_used_and_named_in_the_flags(engine: Engine) -> None:
    records = RecordStore(engine)
    records.upsert("sf", _records())
    repository = ChurnModelRepository(engine)
    report = train_churn(records, repository, "sf", AS_OF, policy=TrainingPolicy(min_outcomes=30))
    # No purchases: the label-free model cannot rank, so the labelled one wins.
    assert report.in_use, report.reason
    assert report.card["label_source"].startswith("the CRM's churn status")
    assert "crm_plan" in report.card["features"]
    assert "contacts_30d" in report.card["features"]
    assert report.card["metrics"]["roc_auc"] > 0.7

    stored = repository.latest("sf")
    assert stored is not None
    assert stored.classifier is not None
    assert stored.in_use
    models = scoring_models(records, "sf", AS_OF, trained_store=repository)
    assert models.labelled is not None

    stores = sync_stores(Settings(), engine)
    ids = sorted(records.customer_ids("sf"))
    scores = score("sf", records.history(ids), stores, AS_OF, models)
    flags = [s.churn for s in scores.values() if s.churn is not None]
    assert len(flags) == len(ids)
    assert {f.model.value for f in flags} == {"classifier"}
    flagged = {f.customer_id for f in flags if f.flagged}
    current = {cid for cid in ids if not records.history([cid])[cid].customer.churned}
    # The CRM already says who is gone: they are lost, never flagged as at risk of leaving.
    assert flagged <= current
    # The flag policy's share of today's customers (10 % by default), not everyone over 0.5.
    assert 0.05 <= len(flagged) / len(current) <= 0.2
    assert all(
        f.drivers[0].name == "judged_by_labelled_model" for f in flags if f.customer_id in flagged
    )
    # The segment follows the flag (a flagged customer shows as lost only once gone quiet).
    at_risk = {cid for cid, s in scores.items() if s.loyalty_stage.value == "at_risk"}
    lost = {cid for cid, s in scores.items() if s.loyalty_stage.value == "lost"}
    assert at_risk == flagged - lost


def test_no_outcomes_keeps_the_label_free_model_and_says_why(engine: Engine) -> None:
    records = RecordStore(engine)
    plain = [
        Customer(id=f"C{i}", display_name="x", source=_source("Contact", f"C{i}"))
        for i in range(20)
    ]
    records.upsert("sf", plain)
    repository = ChurnModelRepository(engine)
    report = train_churn(records, repository, "sf", AS_OF)
    assert not report.in_use
    assert "no churn outcome" in report.reason
    assert scoring_models(records, "sf", AS_OF, trained_store=repository).labelled is None


def test_model_card_over_the_api_and_training_on_demand(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cem.db'}",  # type: ignore[arg-type]
        connections={"sf": connection_settings(kind="salesforce")},  # type: ignore[dict-item]
        # The runner stays off: the queued job is checked as the API left it.
        jobs=JobSettings(enabled=False),
    )
    with TestClient(create_app(settings)) as client:
        read = {"Authorization": f"Bearer {make_key(client, Scope.READ)}"}
        write = {"Authorization": f"Bearer {make_key(client, Scope.WRITE)}"}
        missing = client.get("/v1/models/churn", params={"connection": "sf"}, headers=read)
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert "churn/train" in missing.json()["detail"]
        queued = client.post("/v1/models/churn/train", json={"connection": "sf"}, headers=write)
        assert queued.status_code == 202, queued.text
        assert queued.json()["kind"] == "churn-train"
        assert (
            client.post(
                "/v1/models/churn/train", json={"connection": "nope"}, headers=write
            ).status_code
            == 404
        )
        stores = services_of(client.app).sync_stores()
        stores.records.upsert("sf", _records())
        train_churn(
            stores.records, stores.churn_models, "sf", AS_OF, policy=TrainingPolicy(min_outcomes=30)
        )
        card = client.get("/v1/models/churn", params={"connection": "sf"}, headers=read)
        assert card.status_code == 200, card.text
        body = card.json()
        assert body["judged_by"] == "labelled"
        assert body["roc_auc"] > 0.7
        assert body["ece"] is not None
        assert body["base_rate"] is not None
        assert "crm_plan" in body["features"]
        # The fourth service call and the plan are what this data's churn hangs on.
        top = {d["feature"] for d in body["top_drivers"][:4]}
        assert top & {"crm_plan", "contacts_30d", "contacts_90d", "inbound_30d", "inbound_90d"}
