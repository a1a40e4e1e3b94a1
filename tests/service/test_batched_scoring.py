"""The sync scores its customers in one batch (`score_customers`, the vectorised core): every
CustomerScore, and so every pushed field, equals scoring each customer alone (`score_customer`),
on histories pulled from the sandbox (multilingual messages with sentiment, surveys, cases,
purchases) and a purchase model fitted on them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from service.config import Settings
from service.domain import ChurnModelKind
from service.main import sync_stores
from service.scoring.customer import score_customer
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.settings import SentimentSettings
from service.usecases.fields import owned_fields
from service.usecases.models import scoring_models
from service.usecases.sync import SyncReport, pull, score
from tests.contract.harness import SalesforceHarness

CUSTOMERS = 150
AS_OF = datetime.now(UTC)


@pytest.fixture(scope="module")
def crm() -> Iterator[SalesforceHarness]:
    with SalesforceHarness(CUSTOMERS, 500) as harness:
        yield harness


def test_batched_scores_equal_one_by_one(crm: SalesforceHarness, engine: Engine) -> None:
    stores = sync_stores(Settings(), engine)
    # The lexicon alone: real sentiment with aspects on the messages, without the model's cost.
    analyzer = SentimentAnalyzer(SentimentSettings(backends={"*": ("lexicon",)}))
    report = SyncReport()
    pull("org", crm.reader(), stores, analyzer, report)
    histories = stores.records.history(report.changed_customers)
    models = scoring_models(stores.records, "org", AS_OF)
    assert models.bgnbd is not None  # the purchase model is fitted: BG/NBD rows are batched

    batched = score("org", histories, stores, AS_OF, models)

    owners = stores.records.owners("org")
    accounts = stores.records.accounts(
        "org", {h.crm_account_id for h in histories.values() if h.crm_account_id}
    )
    alone = {
        cid: score_customer(
            h.customer,
            AS_OF,
            models=models,
            surveys=h.surveys,
            interactions=h.interactions,
            cases=h.cases,
            transactions=h.transactions,
            account=accounts.get(h.crm_account_id or ""),
            owners=owners,
        )
        for cid, h in histories.items()
    }
    assert list(batched) == list(alone)
    mismatched = [cid for cid in alone if batched[cid] != alone[cid]]
    assert mismatched == []
    assert all(
        owned_fields(batched[cid], histories[cid], AS_OF)
        == owned_fields(alone[cid], histories[cid], AS_OF)
        for cid in alone
    )
    # The comparison covers every path the batch changes, not only empty histories.
    flags = [s.churn for s in batched.values() if s.churn is not None]
    assert sum(f.model is ChurnModelKind.BG_NBD for f in flags) >= 10
    assert sum(s.experience.score is not None for s in batched.values()) >= CUSTOMERS // 2
    assert any(
        c.factor == "negative_aspects" for s in batched.values() for c in s.experience.contributions
    )
    assert sum(len(s.actions.tasks) for s in batched.values()) > 0
