"""Read API at scale (issue 7): customer list pages stay as cheap deep in the list as at its
start (keyset paging on indexed columns), and reports over many answers take what they take.

1. Creates a fresh database (SQLite file; PostgreSQL too when CEM_BENCH_POSTGRES_URL or
   CEM_TEST_POSTGRES_URL names a server: a database is created and dropped there), migrates it
   and inserts N customers with their CRM links and latest scores, plus A NPS answers spread
   over a year (bulk inserts: the rows RecordStore and the score history write), then ANALYZE.
2. For each sort, times the first page and a page 90 % deep (reached by its cursor), median of
   R repeats, through `ProfileRepository.page` (the SQL the route runs), and one filtered list.
3. Times `GET /v1/reports/nps` grouped by segment and by month through `build_report`.
Goal (ours): a page 90 % deep costs at most 2x the first page, each sort and database.

Run: `python -m bench.read_api [--customers 20000] [--answers 50000] [--repeats 5]`;
writes `bench/results/read-api.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from service.store.database import make_engine, upgrade
from service.store.paging import Sort, encode_cursor
from service.store.profiles import SORTABLE, CustomerFilter, ProfileRepository
from service.store.reports import ReportRepository
from service.store.tables import CrmLink, Customer, EntityType
from service.usecases.reports import GroupBy, ReportMetric, ReportPeriod, build_report

RESULT = Path(__file__).resolve().parent / "results" / "read-api.json"
GOAL_DEEP_OVER_FIRST = 2.0
PAGE = 50
STAGES = ["new", "satisfied", "loyal", "advocate", "at_risk", "lost"]
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def seed(engine: Engine, customers: int, answers: int, rng: random.Random) -> None:
    """Customers (most scored) with their contact links, and NPS answers with their links."""
    now = datetime.now(UTC)
    ids = [uuid.uuid4().hex for _ in range(customers)]
    people: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for i, cid in enumerate(ids):
        scored = rng.random() < 0.9
        risk = rng.randint(0, 1000) / 1000 if scored else None
        people.append(
            {
                "id": cid,
                "display_name": f"customer{rng.randint(0, 5000):05d}",
                "language": rng.choice(["en", "vi", "zh", "et"]),
                "owner_ref": f"005{rng.randint(0, 40):03d}",
                "segment": rng.choice(STAGES) if scored else None,
                "experience_score": rng.randint(0, 1000) / 10 if scored else None,
                "churn_risk": risk,
                "churn_flag": risk >= 0.5 if risk is not None else None,
                "scored_at": AS_OF if scored else None,
                "created_at": now,
                "updated_at": now - timedelta(seconds=rng.randint(0, 10_000_000)),
            }
        )
        links.append(
            {
                "entity_type": EntityType.CUSTOMER.value,
                "entity_id": cid,
                "connection": "bench",
                "crm_object": "Contact",
                "crm_id": f"C{i:08d}",
                "customer_id": cid,
                "linked_at": now,
                "payload": {"id": f"C{i:08d}"},
            }
        )
    for j in range(answers):
        when = AS_OF - timedelta(days=rng.uniform(0, 365))
        links.append(
            {
                "entity_type": EntityType.SURVEY.value,
                "entity_id": uuid.uuid4().hex,
                "connection": "bench",
                "crm_object": "Survey__c",
                "crm_id": f"S{j:08d}",
                "customer_id": rng.choice(ids),
                "occurred_at": when,
                "linked_at": now,
                "payload": {
                    "id": f"S{j:08d}",
                    "kind": "nps",
                    "value": rng.randint(0, 10),
                    "customer_id": "x",
                    "occurred_at": when.isoformat(),
                    "channel": rng.choice(["email", "chat", "sms"]),
                },
            }
        )
    with Session(engine) as session:
        for start in range(0, len(people), 5_000):
            session.execute(insert(Customer), people[start : start + 5_000])
        for start in range(0, len(links), 5_000):
            session.execute(insert(CrmLink), links[start : start + 5_000])
        session.commit()


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    action()  # warm the caches and the plan
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def deep_cursor(engine: Engine, sort: Sort, depth: int) -> str:
    """The cursor a client holds after reading `depth` customers in `sort` order."""
    column = SORTABLE[sort.field]
    ordered = column.desc() if sort.descending else column.asc()
    by_id = col(Customer.id).desc() if sort.descending else col(Customer.id).asc()
    with Session(engine) as session:
        row = session.exec(
            select(Customer)
            .where(column.is_not(None))
            .order_by(ordered, by_id)
            .offset(depth - 1)
            .limit(1)
        ).one()
    return encode_cursor(sort, getattr(row, sort.field), row.id)


def measure(engine: Engine, customers: int, repeats: int) -> dict[str, Any]:
    profiles = ProfileRepository(engine)
    everyone = CustomerFilter()
    sorts: dict[str, Any] = {}
    with Session(engine) as session:
        scored = len(
            session.exec(select(Customer.id).where(col(Customer.scored_at).is_not(None))).all()
        )
    for name in SORTABLE:
        for descending in (False, True):
            sort = Sort(name, descending)
            depth = int(0.9 * min(customers, scored))
            cursor = deep_cursor(engine, sort, depth)

            def page(s: Sort = sort, c: str | None = None) -> object:
                return profiles.page(everyone, sort=s, cursor=c, limit=PAGE)

            first = median_seconds(page, repeats)
            deep = median_seconds(partial(page, sort, cursor), repeats)
            sorts[str(sort)] = {
                "first_page_ms": round(first * 1000, 2),
                "deep_page_ms": round(deep * 1000, 2),
                "depth": depth,
                "deep_over_first": round(deep / first, 2),
                "met": deep / first <= GOAL_DEEP_OVER_FIRST,
            }
    filtered = CustomerFilter(segments=("at_risk",), language="vi", min_score=20, max_score=60)
    filter_ms = median_seconds(
        lambda: profiles.page(filtered, sort=Sort("churn_risk", True), cursor=None, limit=PAGE),
        repeats,
    )
    reports = ReportRepository(engine)
    report_ms = {}
    for group_by in (GroupBy.SEGMENT, GroupBy.PERIOD):

        def report(g: GroupBy = group_by) -> object:
            return build_report(
                reports,
                ReportMetric.NPS,
                g,
                start=AS_OF - timedelta(days=366),
                end=AS_OF + timedelta(days=1),
                period=ReportPeriod.MONTH,
            )

        seconds = median_seconds(report, max(1, repeats // 2))
        report_ms[f"nps_by_{group_by.value}"] = round(seconds * 1000, 1)
    return {
        "sorts": sorts,
        "filtered_first_page_ms": round(filter_ms * 1000, 2),
        "reports_ms": report_ms,
        "met": all(s["met"] for s in sorts.values()),
    }


@contextmanager
def databases() -> Iterator[list[tuple[str, str]]]:
    """(name, URL) of each database to measure: a SQLite file, PostgreSQL when configured."""
    with tempfile.TemporaryDirectory() as folder:
        urls = [("sqlite", f"sqlite:///{Path(folder) / 'read.db'}")]
        base = os.environ.get("CEM_BENCH_POSTGRES_URL") or os.environ.get("CEM_TEST_POSTGRES_URL")
        name = f"cem_bench_{uuid.uuid4().hex[:8]}"
        admin = None
        if base:
            url = make_url(base)
            admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            urls.append(
                ("postgresql", url.set(database=name).render_as_string(hide_password=False))
            )
        try:
            yield urls
        finally:
            if admin:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--answers", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with databases() as urls:
        for name, url in urls:
            engine = make_engine(url)
            try:
                upgrade(engine)
                started = time.perf_counter()
                seed(engine, args.customers, args.answers, random.Random(1))
                seeded = time.perf_counter() - started
                # What autovacuum does to a live database: without statistics PostgreSQL plans
                # the list as a join of every customer (20x slower).
                with engine.connect() as connection:
                    connection.execute(text("ANALYZE"))
                    connection.commit()
                results[name] = measure(engine, args.customers, args.repeats)
                results[name]["seed_seconds"] = round(seeded, 1)
            finally:
                engine.dispose()
            print(name, json.dumps(results[name], indent=1), flush=True)
    document = {
        "benchmark": "read_api",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "customers": args.customers,
        "answers": args.answers,
        "page_size": PAGE,
        "goal_deep_over_first": GOAL_DEEP_OVER_FIRST,
        "databases": results,
        "met": all(r["met"] for r in results.values()),
    }
    RESULT.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
