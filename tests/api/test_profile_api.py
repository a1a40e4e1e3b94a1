"""`GET /v1/customers/{id}` and `GET /v1/accounts/{id}` on data made by the real sync path: the
Salesforce sandbox pulled through the real SDK, scored (lexicon sentiment) and pushed; the
answers are checked against the stored history, score history and task ledger."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.api.services import services_of
from service.domain import Polarity
from service.scoring.weights import FACTORS
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.settings import SentimentSettings
from service.store.records import Customers, RecordStore
from service.store.scores import ScoreHistoryRepository
from service.store.tables import CrmLink, EntityType, TaskLedger
from service.usecases.sync import SyncStores, sync
from tests.api.read_data import app_client, read_headers, walk
from tests.api.test_errors import assert_problem
from tests.contract.harness import SalesforceHarness

AS_OF = datetime.now(UTC)


@pytest.fixture(scope="module")
def crm() -> Iterator[SalesforceHarness]:
    with SalesforceHarness(60, 200) as harness:
        harness.writer().provision(dry_run=False)
        yield harness


@pytest.fixture
def synced(crm: SalesforceHarness, database_url: str) -> Iterator[TestClient]:
    for client in app_client(database_url):
        stores: SyncStores = services_of(client.app).sync_stores()
        analyzer = SentimentAnalyzer(SentimentSettings(backends={"*": ("lexicon",)}))
        report = sync("org", crm.reader(), crm.writer(), stores, AS_OF, analyzer=analyzer)
        assert report.scored > 0
        yield client


def engine_of(client: TestClient) -> Any:
    return services_of(client.app).engine


def in_last_year(moment: datetime) -> bool:
    now = datetime.now(UTC)
    return now - timedelta(days=365) < moment <= now


def scored_messages(history: Customers) -> list[Any]:
    return [
        m
        for m in history.interactions
        if m.sentiment is not None
        and m.sentiment.label is not Polarity.UNKNOWN
        and in_last_year(m.occurred_at)
    ]


def test_read_api_on_a_synced_crm(crm: SalesforceHarness, synced: TestClient) -> None:
    """One sync per database serves every check (a sync is the slow part)."""
    every_synced_customer_is_listed_with_its_latest_scores(crm, synced)
    profile_explains_scores_and_matches_the_stored_history(synced)
    account_rolls_up_its_contacts(synced)


def every_synced_customer_is_listed_with_its_latest_scores(
    crm: SalesforceHarness, synced: TestClient
) -> None:
    engine = engine_of(synced)
    items, _ = walk(synced, "/v1/customers", read_headers(synced), {"limit": 25})
    with Session(engine) as session:
        contacts = session.exec(
            select(CrmLink.entity_id).where(
                CrmLink.entity_type == EntityType.CUSTOMER.value, CrmLink.crm_object == "Contact"
            )
        ).all()
    assert {i["id"] for i in items} >= set(contacts)
    assert len(contacts) == len(crm.customer_ids())
    latest = ScoreHistoryRepository(engine).latest()
    assert sum(1 for i in items if i["scored_at"] is not None) == len(latest)
    for item in items:
        row = latest.get(item["id"])
        if row is None:
            continue
        assert item["experience_score"] == row.experience_score
        assert item["churn_risk"] == row.churn_risk
        assert item["nps_class"] == row.nps_class
        assert item["segment"] in {
            "new",
            "satisfied",
            "loyal",
            "advocate",
            "dissatisfied",
            "at_risk",
            "lost",
        }


def profile_explains_scores_and_matches_the_stored_history(synced: TestClient) -> None:
    engine = engine_of(synced)
    headers = read_headers(synced)
    latest = ScoreHistoryRepository(engine).latest()
    histories = RecordStore(engine).history(latest)
    # The customers with the most analysed messages, and every flagged one, are checked.
    chosen = sorted(histories, key=lambda c: -len(scored_messages(histories[c])))[:3]
    chosen += [c for c, row in latest.items() if row.churn_flag][:3]
    assert any(scored_messages(histories[c]) for c in chosen)
    with Session(engine) as session:
        open_tasks = Counter(
            t.customer_id
            for t in session.exec(select(TaskLedger).where(TaskLedger.state == "open"))
        )
    assert open_tasks  # the sync made tasks, so open actions are really compared
    for cid in chosen:
        answer = synced.get(f"/v1/customers/{cid}", headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        row, history = latest[cid], histories[cid]
        assert body["customer"]["id"] == cid
        experience = body["experience"]
        assert experience["score"] == pytest.approx(row.experience_score)
        points = sum(c["points"] for c in experience["contributions"])
        assert experience["baseline"] + points == pytest.approx(experience["score"])
        assert {c["factor"] for c in experience["contributions"]} <= set(FACTORS)
        assert set(body["factor_labels"]) == {c["factor"] for c in experience["contributions"]}
        assert all(c["evidence"] for c in experience["contributions"])
        if row.churn_risk is None:
            # No estimate: no flag, or one raised by a fresh complaint alone (no probability).
            churn = body["churn"]
            assert churn is None or (churn["model"], churn["probability"]) == ("complaint", None)
            assert body["churn_note"]
        else:
            assert body["churn"]["probability"] == pytest.approx(row.churn_risk)
            assert body["churn"]["flagged"] is row.churn_flag
            if row.churn_flag:
                assert body["churn"]["drivers"]
        messages = scored_messages(history)
        assert sum(p["n"] for p in body["sentiment_trend"]) == len(messages)
        months = Counter(m.occurred_at.astimezone(UTC).strftime("%Y-%m") for m in messages)
        assert {p["period"]: p["n"] for p in body["sentiment_trend"]} == dict(months)
        aspects = Counter(
            a.aspect
            for m in history.interactions
            if m.sentiment and in_last_year(m.occurred_at)
            for a in m.sentiment.aspects
        )
        assert {a["aspect"]: a["mentions"] for a in body["aspects"]} == dict(aspects)
        assert len(body["open_actions"]) == open_tasks[cid]
        assert body["history"]["scores"][0]["as_of"].startswith(AS_OF.strftime("%Y-%m-%dT%H"))
        assert body["history"]["counts"].get("interactions", 0) == len(history.interactions)
        assert len(body["history"]["surveys"]) == min(20, len(history.surveys))
        assert [r["crm_object"] for r in body["crm_records"]] == ["Contact"]
        if history.crm_account_id:
            assert len(body["account_ids"]) == 1
    assert_problem(synced.get("/v1/customers/" + "f" * 32, headers=headers), 404)


def account_rolls_up_its_contacts(synced: TestClient) -> None:
    engine = engine_of(synced)
    headers = read_headers(synced)
    latest = ScoreHistoryRepository(engine).latest()
    histories = RecordStore(engine).history(latest)
    members: dict[str, set[str]] = {}
    for cid, history in histories.items():
        if history.crm_account_id:
            members.setdefault(history.crm_account_id, set()).add(cid)
    with Session(engine) as session:
        accounts = {
            link.crm_id: link.entity_id
            for link in session.exec(
                select(CrmLink).where(CrmLink.entity_type == EntityType.ACCOUNT.value)
            )
        }
    checked = 0
    for crm_account, contacts in sorted(members.items(), key=lambda kv: -len(kv[1]))[:4]:
        answer = synced.get(f"/v1/accounts/{accounts[crm_account]}", headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert {c["id"] for c in body["contacts"]} == contacts
        scores = [latest[c].experience_score for c in contacts]
        known = [s for s in scores if s is not None]
        experience = body["experience"]
        assert experience["input_counts"]["contacts"] == len(contacts)
        if known and experience["score"] is not None:
            # A weighted mean of the contacts' scores lies between the lowest and the highest.
            assert min(known) - 1e-6 <= experience["score"] <= max(known) + 1e-6
            assert len(experience["contributions"]) == experience["input_counts"]["scored_contacts"]
            weights = [c["weight"] for c in body["contacts"] if c["weight"] is not None]
            assert len(weights) == len(experience["contributions"])
            checked += 1
        flagged = sum(1 for c in contacts if latest[c].churn_flag)
        assert body["churn"]["flagged_contacts"] == flagged
        with Session(engine) as session:
            tasks = session.exec(select(TaskLedger).where(TaskLedger.state == "open")).all()
        assert body["open_actions"] == sum(1 for t in tasks if t.customer_id in contacts)
    assert checked > 0
    assert_problem(synced.get("/v1/accounts/" + "e" * 32, headers=headers), 404)
