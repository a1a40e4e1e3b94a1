"""Seeding the read API's data through the store API (RecordStore, ScoreHistoryRepository) with
a record of what was seeded, so tests compare the API with values they know independently."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from service.config import Settings
from service.domain import (
    ChurnFlag,
    ChurnModelKind,
    ChurnSegment,
    Customer,
    ExperienceProfile,
    FactorContribution,
    SourceRef,
)
from service.jobs import JobSettings
from service.main import create_app
from service.scoring.actions.engine import ActionPlan
from service.scoring.customer import CustomerScore
from service.scoring.segments import LoyaltyStage, NpsClass
from service.scoring.version import SCORING_VERSION
from service.store.keys import Scope
from service.store.records import RecordStore
from service.store.scores import ScoreHistoryRepository
from service.store.tables import CrmLink, EntityType
from service.store.tables import Customer as CustomerRow
from service.webhooks.settings import WebhookSettings
from tests.conftest import make_key

CONNECTION = "org"
NAMES = ["anna", "bao", "chen", "dang", "eeva", "fang", "giang", "hanna", "ivo", "jun"]
LANGUAGES = ["en", "vi", "zh", "et"]
OWNERS = ["005A", "005B", "005C"]


@dataclass
class Seeded:
    """What one seeded customer is, as the test knows it."""

    id: str
    crm_id: str
    name: str
    language: str
    owner: str
    score: float | None = None
    risk: float | None = None
    flagged: bool | None = None
    segment: str | None = None
    nps_class: str | None = None


def source(crm_object: str, crm_id: str) -> SourceRef:
    return SourceRef(connection=CONNECTION, crm_object=crm_object, crm_id=crm_id)


def make_score(
    customer_id: str,
    as_of: datetime,
    *,
    score: float,
    risk: float,
    stage: LoyaltyStage,
    nps: NpsClass | None,
) -> CustomerScore:
    """A scoring with known numbers (the scoring functions are tested elsewhere)."""
    return CustomerScore(
        customer_id=customer_id,
        as_of=as_of,
        experience=ExperienceProfile(
            subject_id=customer_id,
            as_of=as_of,
            score=score,
            contributions=(
                FactorContribution(
                    factor="surveys", points=score - 50.0, subscore=score / 100.0, weight=0.3
                ),
            ),
            confidence=0.3,
            scoring_version=SCORING_VERSION,
        ),
        churn=ChurnFlag(
            customer_id=customer_id,
            as_of=as_of,
            horizon_days=90,
            probability=risk,
            model=ChurnModelKind.BG_NBD,
            segment=ChurnSegment.REPEAT,
            flagged=risk >= 0.5,
            threshold=0.5,
            scoring_version=SCORING_VERSION,
        ),
        loyalty_stage=stage,
        nps_class=nps,
        actions=ActionPlan(customer_id=customer_id, tasks=()),
    )


def seed_customers(
    engine: Engine,
    count: int,
    as_of: datetime,
    *,
    seed: int = 7,
    scored_share: float = 0.85,
    bulk: bool = False,
) -> list[Seeded]:
    """`count` customers in one connection; most scored, with many ties in every sort field."""
    rng = random.Random(seed)
    records = RecordStore(engine)
    people = [
        Seeded(
            id="",
            crm_id=f"C{i:05d}",
            name=rng.choice(NAMES),
            language=rng.choice(LANGUAGES),
            owner=rng.choice(OWNERS),
        )
        for i in range(count)
    ]
    domain = [
        Customer(
            id=p.crm_id,
            source=source("Contact", p.crm_id),
            display_name=p.name,
            language=p.language,
            owner_id=p.owner,
        )
        for p in people
    ]
    if bulk:
        # What RecordStore.upsert writes for a new contact (a customer row and its link),
        # inserted in one transaction: the paging test needs thousands, not the upsert path.
        with Session(engine) as session:
            for person, record in zip(people, domain, strict=True):
                row = CustomerRow(
                    display_name=person.name, language=person.language, owner_ref=person.owner
                )
                session.add(row)
                session.add(
                    CrmLink(
                        entity_type=EntityType.CUSTOMER.value,
                        entity_id=row.id,
                        connection=CONNECTION,
                        crm_object="Contact",
                        crm_id=person.crm_id,
                        customer_id=row.id,
                        payload=record.model_dump(mode="json"),
                    )
                )
            session.commit()
    else:
        for start in range(0, count, 500):
            records.upsert(CONNECTION, domain[start : start + 500])
    with Session(engine) as session:
        ours = list(session.exec(select(CustomerRow.id)))
    crm_to_ours = {crm: cid for cid, (_, crm) in records.crm_ids(CONNECTION, ours).items()}
    for p in people:
        p.id = crm_to_ours[p.crm_id]
    scores = []
    for p in people:
        if rng.random() >= scored_share:
            continue
        p.score = float(rng.randint(0, 20) * 5)  # 21 distinct values: ties on every page
        p.risk = rng.randint(0, 20) / 20
        p.flagged = p.risk >= 0.5
        stage = rng.choice(list(LoyaltyStage))
        p.segment = stage.value
        nps = rng.choice([None, *NpsClass])
        p.nps_class = nps.value if nps else None
        scores.append(make_score(p.id, as_of, score=p.score, risk=p.risk, stage=stage, nps=nps))
    ScoreHistoryRepository(engine).record(scores)
    return people


def app_client(database_url: str) -> Iterator[TestClient]:
    """The app on `database_url`, without job runner or webhook dispatcher threads."""
    settings = Settings(
        database_url=database_url,  # type: ignore[arg-type]
        log_format="text",  # type: ignore[arg-type]
        jobs=JobSettings(enabled=False),
        webhooks=WebhookSettings(enabled=False),
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def read_headers(client: TestClient, scope: Scope = Scope.READ) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(client, scope)}"}


def walk(
    client: TestClient, path: str, headers: dict[str, str], params: dict[str, Any]
) -> tuple[list[dict[str, Any]], int]:
    """Every item of a paged list, following `next_cursor`; also the number of pages."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = dict(params) | ({"cursor": cursor} if cursor else {})
        answer = client.get(path, headers=headers, params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items.extend(body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
