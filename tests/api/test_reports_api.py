"""`GET /v1/reports/{metric}`: every metric by every grouping it supports, over a window, with
numbers and intervals checked against formulas computed here, independently of the service."""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from statistics import NormalDist
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scipy import stats

from service.api.services import services_of
from service.domain import (
    Channel,
    Interaction,
    Polarity,
    SentimentSignal,
    SurveyKind,
    SurveyResponse,
)
from service.scoring.segments import LoyaltyStage
from service.store.records import RecordStore
from service.store.scores import ScoreHistoryRepository
from tests.api.read_data import (
    CONNECTION,
    Seeded,
    app_client,
    make_score,
    read_headers,
    seed_customers,
    source,
)
from tests.api.test_errors import assert_problem

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
WINDOW = {"from": START.isoformat(), "to": END.isoformat()}
Z = NormalDist().inv_cdf(0.975)
CHANNELS = [Channel.EMAIL, Channel.CHAT, Channel.SMS]
TOUCHPOINTS = ["onboarding", "delivery", None]


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    yield from app_client(database_url)


def quarter(t: datetime) -> str:
    return f"{t.year}-Q{(t.month - 1) // 3 + 1}"


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def t_interval(values: list[float], low: float, high: float) -> tuple[float, float]:
    n = len(values)
    half = stats.t.ppf(0.975, n - 1) * statistics.stdev(values) / math.sqrt(n)
    mean = statistics.fmean(values)
    return max(low, mean - half), min(high, mean + half)


class World:
    """Customers, their answers and messages, and the expected groups, built together."""

    def __init__(self, client: TestClient) -> None:
        engine = services_of(client.app).engine
        self.people = seed_customers(engine, 60, END - timedelta(days=1), seed=21, scored_share=1)
        self.by_crm = {p.crm_id: p for p in self.people}
        rng = random.Random(5)
        self.surveys: list[SurveyResponse] = []
        self.messages: list[Interaction] = []
        scales = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5), SurveyKind.CES: (1, 7)}
        for i in range(900):
            person = rng.choice(self.people)
            kind = rng.choice(list(scales))
            low, high = scales[kind]
            # Some answers fall before the window and must not count.
            when = START + timedelta(days=rng.uniform(-60, 300), hours=rng.uniform(0, 24))
            self.surveys.append(
                SurveyResponse(
                    id=f"S{i}",
                    source=source("Survey__c", f"S{i}"),
                    customer_id=person.crm_id,
                    kind=kind,
                    value=rng.randint(low, high),
                    channel=rng.choice(CHANNELS),
                    touchpoint=rng.choice(TOUCHPOINTS),
                    occurred_at=when,
                )
            )
        for i in range(500):
            person = rng.choice(self.people)
            score = round(rng.uniform(-1, 1), 3)
            label = (
                Polarity.NEGATIVE
                if score < -0.2
                else Polarity.POSITIVE
                if score > 0.2
                else Polarity.NEUTRAL
            )
            self.messages.append(
                Interaction(
                    id=f"M{i}",
                    source=source("Task", f"M{i}"),
                    customer_id=person.crm_id,
                    channel=rng.choice(CHANNELS),
                    occurred_at=START + timedelta(days=rng.uniform(-30, 320)),
                    sentiment=SentimentSignal(score=score, label=label)
                    if i % 10
                    else None,  # every tenth message has no sentiment (language unsupported)
                )
            )
        RecordStore(engine).upsert(CONNECTION, [*self.surveys, *self.messages])

    def person(self, crm_id: str) -> Seeded:
        return self.by_crm[crm_id]

    def survey_groups(self, kind: SurveyKind, group_by: str) -> dict[str, list[float]]:
        groups: dict[str, list[float]] = defaultdict(list)
        for s in self.surveys:
            if s.kind is not kind or not START <= s.occurred_at < END:
                continue
            p = self.person(s.customer_id)
            key = {
                "segment": p.segment,
                "owner": p.owner,
                "channel": s.channel.value if s.channel else None,
                "touchpoint": s.touchpoint,
                "period": quarter(s.occurred_at),
            }[group_by]
            groups[key or "unspecified"].append(s.value)
        return groups


def report(client: TestClient, metric: str, **params: Any) -> dict[str, Any]:
    answer = client.get(
        f"/v1/reports/{metric}", headers=read_headers(client), params=WINDOW | params
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_survey_reports_match_the_formulas(client: TestClient) -> None:
    world = World(client)
    checked = 0
    for group_by in ("segment", "owner", "channel", "touchpoint", "period"):
        extra = {"period": "quarter"} if group_by == "period" else {}
        nps = report(client, "nps", group_by=group_by, min_n=5, **extra)
        want = world.survey_groups(SurveyKind.NPS, group_by)
        assert {g["group"] for g in nps["groups"]} == set(want)
        for group in nps["groups"]:
            values = want[group["group"]]
            assert group["n"] == len(values)
            if len(values) < 5:
                assert (group["sufficient"], group["value"]) == (False, None)
                continue
            promoters = sum(v >= 9 for v in values) / len(values)
            detractors = sum(v <= 6 for v in values) / len(values)
            value = 100 * (promoters - detractors)
            se = math.sqrt((promoters + detractors - (promoters - detractors) ** 2) / len(values))
            assert group["value"] == pytest.approx(value)
            assert group["ci_low"] == pytest.approx(max(-100, value - 100 * Z * se))
            assert group["ci_high"] == pytest.approx(min(100, value + 100 * Z * se))
            checked += 1
        csat = report(client, "csat", group_by=group_by, min_n=5, **extra)
        want = world.survey_groups(SurveyKind.CSAT, group_by)
        for group in csat["groups"]:
            values = want[group["group"]]
            if len(values) < 5:
                continue
            satisfied = sum(v >= 4 for v in values)
            low, high = wilson(satisfied, len(values))
            assert group["value"] == pytest.approx(100 * satisfied / len(values))
            assert (group["ci_low"], group["ci_high"]) == pytest.approx((100 * low, 100 * high))
            checked += 1
        ces = report(client, "ces", group_by=group_by, min_n=5, **extra)
        want = world.survey_groups(SurveyKind.CES, group_by)
        for group in ces["groups"]:
            values = want[group["group"]]
            if len(values) < 5:
                continue
            assert group["value"] == pytest.approx(statistics.fmean(values))
            assert (group["ci_low"], group["ci_high"]) == pytest.approx(t_interval(values, 1, 7))
            easy = sum(v >= 5 for v in values)
            assert group["secondary"]["pct_easy"]["value"] == pytest.approx(
                100 * easy / len(values)
            )
            checked += 1
    assert checked > 40
    # The overall figure counts every answer in the window once.
    nps = report(client, "nps", group_by="segment")
    in_window = [
        s for s in world.surveys if s.kind is SurveyKind.NPS and START <= s.occurred_at < END
    ]
    assert nps["overall"]["n"] == len(in_window)
    assert sum(g["n"] for g in nps["groups"]) == len(in_window)
    assert len(in_window) < sum(s.kind is SurveyKind.NPS for s in world.surveys)


def test_small_groups_are_marked_not_hidden(client: TestClient) -> None:
    world = World(client)
    body = report(client, "nps", group_by="owner", min_n=1_000)
    want = world.survey_groups(SurveyKind.NPS, "owner")
    assert {g["group"]: g["n"] for g in body["groups"]} == {k: len(v) for k, v in want.items()}
    for group in body["groups"]:
        assert group["sufficient"] is False
        assert group["value"] is None
        assert "1000" in group["note"]


def test_sentiment_report_matches_the_formulas(client: TestClient) -> None:
    world = World(client)
    for group_by in ("channel", "segment", "period"):
        extra = {"period": "month"} if group_by == "period" else {}
        body = report(client, "sentiment", group_by=group_by, min_n=3, **extra)
        want: dict[str, list[SentimentSignal]] = defaultdict(list)
        for m in world.messages:
            if m.sentiment is None or not START <= m.occurred_at < END:
                continue
            key = {
                "channel": m.channel.value,
                "segment": world.person(m.customer_id).segment or "unspecified",
                "period": m.occurred_at.strftime("%Y-%m"),
            }[group_by]
            want[key].append(m.sentiment)
        assert {g["group"]: g["n"] for g in body["groups"]} == {k: len(v) for k, v in want.items()}
        for group in body["groups"]:
            signals = want[group["group"]]
            if len(signals) < 3:
                assert group["sufficient"] is False
                continue
            scores = [s.score for s in signals]
            assert group["value"] == pytest.approx(statistics.fmean(scores))
            assert (group["ci_low"], group["ci_high"]) == pytest.approx(t_interval(scores, -1, 1))
            negative = sum(s.label is Polarity.NEGATIVE for s in signals)
            low, high = wilson(negative, len(signals))
            share = group["secondary"]["negative_pct"]
            assert share["value"] == pytest.approx(100 * negative / len(signals))
            assert (share["ci_low"], share["ci_high"]) == pytest.approx((100 * low, 100 * high))
            assert group["counts"]["negative"] == negative


def test_churn_report_counts_each_customers_last_scoring(client: TestClient) -> None:
    world = World(client)
    engine = services_of(client.app).engine
    rng = random.Random(9)
    # An earlier scoring for half the customers (in Q2) and one before the window for a few.
    earlier: dict[str, float] = {}
    scores = []
    for p in world.people[::2]:
        earlier[p.id] = rng.randint(0, 20) / 20
        scores.append(make_score(p.id, datetime(2026, 5, 1, tzinfo=UTC), score=50.0,
                                 risk=earlier[p.id], stage=LoyaltyStage.NEW, nps=None))  # fmt: skip
    for p in world.people[:5]:
        scores.append(make_score(p.id, datetime(2025, 5, 1, tzinfo=UTC), score=50.0, risk=1.0,
                                 stage=LoyaltyStage.NEW, nps=None))  # fmt: skip
    ScoreHistoryRepository(engine).record(scores)

    body = report(client, "churn", group_by="segment", min_n=2)
    groups: dict[str, list[Seeded]] = defaultdict(list)
    for p in world.people:
        groups[p.segment or "unspecified"].append(p)
    assert body["overall"]["n"] == len(world.people)
    for group in body["groups"]:
        members = groups[group["group"]]
        assert group["n"] == len(members)
        if len(members) < 2:
            continue
        flagged = sum(bool(p.flagged) for p in members)
        low, high = wilson(flagged, len(members))
        assert group["value"] == pytest.approx(100 * flagged / len(members))
        assert (group["ci_low"], group["ci_high"]) == pytest.approx((100 * low, 100 * high))
        risks = [p.risk or 0.0 for p in members]
        mean_risk = group["secondary"]["mean_risk"]
        assert mean_risk["value"] == pytest.approx(statistics.fmean(risks))
        assert (mean_risk["ci_low"], mean_risk["ci_high"]) == pytest.approx(t_interval(risks, 0, 1))

    by_quarter = report(client, "churn", group_by="period", period="quarter", min_n=1)
    quarters = {g["group"]: g for g in by_quarter["groups"]}
    assert set(quarters) == {"2026-Q2", "2026-Q4"}
    q2 = quarters["2026-Q2"]
    assert q2["n"] == len(earlier)
    assert q2["counts"]["flagged"] == sum(r >= 0.5 for r in earlier.values())
    assert quarters["2026-Q4"]["n"] == len(world.people)


def test_report_problems(client: TestClient) -> None:
    headers = read_headers(client)
    for metric, group_by in (("churn", "channel"), ("churn", "touchpoint"),
                             ("sentiment", "touchpoint")):  # fmt: skip
        body = assert_problem(
            client.get(f"/v1/reports/{metric}", headers=headers, params={"group_by": group_by}),
            422,
        )
        assert body["errors"][0]["field"] == "query.group_by"
    backwards = {"from": END.isoformat(), "to": START.isoformat()}
    assert_problem(client.get("/v1/reports/nps", headers=headers, params=backwards), 422)
    for params in ({"group_by": "country"}, {"period": "decade"}, {"min_n": 0},
                   {"confidence": 1.5}, {"from": "yesterday"}):  # fmt: skip
        assert_problem(client.get("/v1/reports/nps", headers=headers, params=params), 422)
    assert_problem(client.get("/v1/reports/mood", headers=headers), 422)
    assert_problem(client.get("/v1/reports/nps"), 401)


def test_mixed_answer_scales_in_one_group_are_refused(client: TestClient) -> None:
    engine = services_of(client.app).engine
    (person,) = seed_customers(engine, 1, END, scored_share=1)
    answers = [
        SurveyResponse(
            id=f"X{i}",
            source=source("Survey__c", f"X{i}"),
            customer_id=person.crm_id,
            kind=SurveyKind.CSAT,
            value=3,
            scale=scale,
            occurred_at=START + timedelta(days=i),
        )
        for i, scale in enumerate([(1, 5), (1, 10)])
    ]
    RecordStore(engine).upsert(CONNECTION, answers)
    answer = client.get(
        "/v1/reports/csat", headers=read_headers(client), params=WINDOW | {"group_by": "segment"}
    )
    assert "scales" in str(assert_problem(answer, 409)["detail"])
