"""`GET /v1/customers`: every sort pages through thousands of customers without a duplicate or a
gap, filters select exactly the matching customers, bad values are problems; on both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.api.deps import require_scope
from service.api.routes import accounts, customers, reports
from service.api.services import services_of
from service.store.database import make_engine
from service.store.keys import Scope
from service.store.records import RecordStore
from service.store.tables import Customer as CustomerRow
from tests.api.read_data import CONNECTION, Seeded, app_client, read_headers, seed_customers, walk
from tests.api.test_errors import assert_problem

AS_OF = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    yield from app_client(database_url)


def engine_of(client: TestClient):  # type: ignore[no-untyped-def]
    return services_of(client.app).engine


def expected_order(
    people: list[Seeded], value: Callable[[Seeded], object], descending: bool
) -> list[str]:
    """Sorted by (value, id) in the direction asked; customers without a value last."""
    known = [p for p in people if value(p) is not None]
    unknown = [p for p in people if value(p) is None]
    known.sort(key=lambda p: (value(p), p.id), reverse=descending)
    unknown.sort(key=lambda p: p.id, reverse=descending)
    return [p.id for p in known + unknown]


def test_every_sort_pages_through_thousands_without_duplicates_or_gaps(
    client: TestClient,
) -> None:
    people = seed_customers(engine_of(client), 2_500, AS_OF, bulk=True)
    assert sum(p.score is None for p in people) > 100  # unscored customers are in the walk
    with Session(engine_of(client)) as session:
        updated = dict(session.exec(select(CustomerRow.id, CustomerRow.updated_at)).all())
    fields: dict[str, Callable[[Seeded], object]] = {
        "experience_score": lambda p: p.score,
        "churn_risk": lambda p: p.risk,
        "display_name": lambda p: p.name,
        "updated_at": lambda p: updated[p.id],
    }
    headers = read_headers(client)
    for field, value in fields.items():
        for descending in (False, True):
            sort = ("-" if descending else "") + field
            items, pages = walk(client, "/v1/customers", headers, {"sort": sort, "limit": 97})
            got = [item["id"] for item in items]
            assert got == expected_order(people, value, descending), sort
            assert pages == -(-len(people) // 97)


def test_filters_select_exactly_the_matching_customers(client: TestClient) -> None:
    people = seed_customers(engine_of(client), 400, AS_OF, seed=11)
    headers = read_headers(client)
    cases: list[tuple[dict[str, object], Callable[[Seeded], bool]]] = [
        ({"segment": "at_risk"}, lambda p: p.segment == "at_risk"),
        ({"segment": ["lost", "new"]}, lambda p: p.segment in {"lost", "new"}),
        ({"owner": "005B"}, lambda p: p.owner == "005B"),
        ({"language": "vi"}, lambda p: p.language == "vi"),
        ({"nps_class": "detractor"}, lambda p: p.nps_class == "detractor"),
        ({"flagged": "true"}, lambda p: p.flagged is True),
        ({"flagged": "false"}, lambda p: p.flagged is False),
        ({"scored": "false"}, lambda p: p.score is None),
        ({"min_score": 40, "max_score": 60}, lambda p: p.score is not None and 40 <= p.score <= 60),
        ({"min_risk": 0.75}, lambda p: p.risk is not None and p.risk >= 0.75),
        (
            {"owner": "005A", "language": "en", "max_risk": 0.5, "min_score": 10},
            lambda p: (
                p.owner == "005A"
                and p.language == "en"
                and p.risk is not None
                and p.risk <= 0.5
                and p.score is not None
                and p.score >= 10
            ),
        ),
    ]
    for params, matches in cases:
        items, _ = walk(
            client, "/v1/customers", headers, {**params, "limit": 50, "sort": "-churn_risk"}
        )
        want = {p.id for p in people if matches(p)}
        assert want, params  # every case selects someone, so an empty answer cannot pass
        assert [i["id"] for i in items if i["id"] not in want] == [], params
        assert {i["id"] for i in items} == want, params
        assert len(items) == len(want)


def test_list_items_carry_the_latest_scores(client: TestClient) -> None:
    people = seed_customers(engine_of(client), 30, AS_OF, seed=3, scored_share=1.0)
    items, _ = walk(client, "/v1/customers", read_headers(client), {"limit": 200})
    by_id = {i["id"]: i for i in items}
    for p in people:
        item = by_id[p.id]
        assert item["display_name"] == p.name
        assert (item["language"], item["owner"]) == (p.language, p.owner)
        assert item["experience_score"] == p.score
        assert item["churn_risk"] == p.risk
        assert item["churn_flag"] is p.flagged
        assert item["segment"] == p.segment
        assert item["nps_class"] == p.nps_class
        assert datetime.fromisoformat(item["scored_at"]) == AS_OF


def test_an_older_scoring_never_replaces_a_newer_one(client: TestClient) -> None:
    from service.scoring.segments import LoyaltyStage
    from service.store.scores import ScoreHistoryRepository
    from tests.api.read_data import make_score

    (person,) = seed_customers(engine_of(client), 1, AS_OF, scored_share=1.0)
    late = make_score(
        person.id,
        AS_OF.replace(month=10),
        score=1.0,
        risk=0.99,
        stage=LoyaltyStage.LOST,
        nps=None,
    )
    ScoreHistoryRepository(engine_of(client)).record([late])
    (item,) = client.get("/v1/customers", headers=read_headers(client)).json()["items"]
    assert item["experience_score"] == person.score
    assert item["segment"] == person.segment


def test_customers_deleted_in_the_crm_leave_the_list(client: TestClient) -> None:
    people = seed_customers(engine_of(client), 5, AS_OF, seed=5)
    RecordStore(engine_of(client)).mark_deleted(CONNECTION, "Contact", [people[0].crm_id])
    headers = read_headers(client)
    items, _ = walk(client, "/v1/customers", headers, {})
    assert {i["id"] for i in items} == {p.id for p in people[1:]}
    assert_problem(client.get(f"/v1/customers/{people[0].id}", headers=headers), 404)


def test_bad_values_are_problems(client: TestClient) -> None:
    seed_customers(engine_of(client), 5, AS_OF)
    headers = read_headers(client)
    body = assert_problem(
        client.get("/v1/customers", headers=headers, params={"min_score": 70, "max_score": 20}),
        422,
    )
    assert body["errors"] == [
        {"field": "query.min_score", "message": "min_score must not exceed max_score"}
    ]
    body = assert_problem(
        client.get("/v1/customers", headers=headers, params={"min_risk": 0.9, "max_risk": 0.1}),
        422,
    )
    assert "min_risk" in str(body["errors"])
    for params in (
        {"sort": "email"},
        {"limit": 0},
        {"limit": 201},
        {"min_score": 101},
        {"max_risk": -0.1},
        {"segment": "vip"},
        {"nps_class": "fan"},
        {"language": "not a language"},
        {"flagged": "maybe"},
    ):
        body = assert_problem(client.get("/v1/customers", headers=headers, params=params), 422)
        assert body["type"] == "urn:cem:problem:validation-error", params
        assert str(next(iter(params.values()))) not in str(body["errors"]), params  # no echo
    page = client.get("/v1/customers", headers=headers, params={"limit": 2, "sort": "churn_risk"})
    cursor = page.json()["next_cursor"]
    assert cursor
    other = client.get("/v1/customers", headers=headers, params={"cursor": cursor})
    assert "sort=churn_risk" in str(assert_problem(other, 400)["detail"])
    assert_problem(client.get("/v1/customers", headers=headers, params={"cursor": "x!"}), 400)
    assert_problem(client.get("/v1/customers/" + "0" * 32, headers=headers), 404)
    assert_problem(client.get("/v1/customers/not-an-id", headers=headers), 422)


def test_read_routes_take_any_key_with_read_scope(client: TestClient) -> None:
    seed_customers(engine_of(client), 3, AS_OF)
    for scope in Scope:
        answer = client.get("/v1/customers", headers=read_headers(client, scope))
        assert answer.status_code == 200
    assert_problem(client.get("/v1/customers"), 401)
    revoked = services_of(client.app).keys.create("gone", [Scope.READ])
    services_of(client.app).keys.revoke(revoked.info.id)
    headers = {"Authorization": f"Bearer {revoked.key}"}
    assert_problem(client.get("/v1/customers", headers=headers), 401)
    # Each read route asks for exactly the read scope (so a read-only key is enough).
    ours = {"/v1/customers", "/v1/customers/{customer_id}", "/v1/accounts/{account_id}",
            "/v1/reports/{metric}"}  # fmt: skip
    scopes = {}
    for route in [*customers.router.routes, *accounts.router.routes, *reports.router.routes]:
        if getattr(route, "path", None) in ours:
            needed = [
                getattr(d.call, "required_scope", None)
                for d in route.dependant.dependencies  # type: ignore[attr-defined]
            ]
            scopes[route.path] = [s for s in needed if s is not None]
    assert scopes == {path: [Scope.READ] for path in ours}
    assert require_scope(Scope.READ).required_scope is Scope.READ  # type: ignore[attr-defined]


def test_upgrade_backfills_latest_scores(database_url: str) -> None:
    """Migration 0005 copies each customer's newest score_history row onto the customer."""
    from sqlalchemy import text

    from service.store.database import upgrade

    engine = make_engine(database_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as db:
            db.execute(text("INSERT INTO customers (id, display_name, created_at, updated_at) "
                            "VALUES ('c1', 'x', :t, :t), ('c2', 'y', :t, :t)"),
                       {"t": AS_OF})  # fmt: skip
            rows = [
                ("c1", datetime(2026, 1, 1, tzinfo=UTC), 10.0, 0.9, True, "detractor"),
                ("c1", datetime(2026, 3, 1, tzinfo=UTC), 80.0, 0.2, False, "promoter"),
                ("c1", datetime(2026, 2, 1, tzinfo=UTC), 40.0, 0.5, True, "passive"),
            ]
            for cid, when, score, risk, flag, nps in rows:
                db.execute(
                    text(
                        "INSERT INTO score_history (customer_id, as_of, experience_score, "
                        "nps_class, churn_risk, churn_flag, contributions, scoring_version) "
                        "VALUES (:c, :w, :s, :n, :r, :f, '{}', 'v')"
                    ),
                    {"c": cid, "w": when, "s": score, "n": nps, "r": risk, "f": flag},
                )
        upgrade(engine)
        with Session(engine) as session:
            c1 = session.get(CustomerRow, "c1")
            c2 = session.get(CustomerRow, "c2")
        assert c1 is not None
        assert c2 is not None
        assert (c1.experience_score, c1.churn_risk, c1.churn_flag, c1.nps_class) == (
            80.0, 0.2, False, "promoter")  # fmt: skip
        assert c1.scored_at == datetime(2026, 3, 1, tzinfo=UTC)
        assert (c2.experience_score, c2.scored_at) == (None, None)
    finally:
        engine.dispose()
