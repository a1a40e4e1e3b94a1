"""Gauges read from the database when Prometheus scrapes: jobs by state and kind, the job queue
and the webhook outbox (depth and age of the oldest item), and whether the database answers.

Read at scrape time rather than kept in memory so every replica reports the same truth (the
queue is shared) and a restart loses nothing. Each scrape is four small aggregate queries on
indexed columns. When the database does not answer, the gauges are left out and
`cem_database_up` is 0, so alerts on the queue stay quiet and the readiness alert fires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, func, or_
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from service.store.tables import Job, JobState, WebhookDelivery, WebhookDeliveryState, utcnow


def _age(now: datetime, oldest: datetime | None) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - oldest).total_seconds())


class StoreCollector(Collector):
    """A custom collector over the jobs and webhook_deliveries tables."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._clock = clock

    def describe(self) -> list[Metric]:
        # Describing nothing keeps registration from running a query (collect() would).
        return []

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("cem_database_up", "1 when the database answered this scrape")
        try:
            families = self._read(self._clock())
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self, now: datetime) -> list[Metric]:
        jobs = GaugeMetricFamily(
            "cem_jobs", "Jobs in the job table by state and kind", labels=["state", "kind"]
        )
        depth = GaugeMetricFamily("cem_job_queue_depth", "Queued jobs that are due to run now")
        age = GaugeMetricFamily(
            "cem_job_queue_oldest_age_seconds",
            "How long the oldest due queued job has waited (0 when none waits)",
        )
        outbox = GaugeMetricFamily(
            "cem_webhook_outbox_depth", "Webhook deliveries not yet delivered or given up"
        )
        outbox_age = GaugeMetricFamily(
            "cem_webhook_outbox_oldest_age_seconds",
            "Age of the oldest pending webhook delivery (0 when the outbox is empty)",
        )
        queued = col(Job.state) == JobState.QUEUED.value
        due = and_(queued, or_(col(Job.run_after).is_(None), col(Job.run_after) <= now))
        # A job waits from when it became due: its run_after when it has one, else its creation.
        waiting_since = func.coalesce(col(Job.run_after), col(Job.created_at))
        pending = col(WebhookDelivery.state) == WebhookDeliveryState.PENDING.value
        with Session(self._engine) as session:
            counts = session.exec(
                select(Job.state, Job.kind, func.count()).group_by(col(Job.state), col(Job.kind))
            ).all()
            queue_depth, queue_oldest = session.exec(
                select(func.count(), func.min(waiting_since)).where(due)
            ).one()
            outbox_depth, outbox_oldest = session.exec(
                select(func.count(), func.min(col(WebhookDelivery.created_at))).where(pending)
            ).one()
        seen = {(state, kind) for state, kind, _ in counts}
        kinds = {kind for _, kind, _ in counts}
        for state, kind, count in counts:
            jobs.add_metric([state, kind], count)
        # Every state of every known kind, zeros included, so rate() and alerts see a series.
        for kind in kinds:
            for state in JobState:
                if (state.value, kind) not in seen:
                    jobs.add_metric([state.value, kind], 0)
        depth.add_metric([], queue_depth)
        age.add_metric([], _age(now, _as_datetime(queue_oldest)))
        outbox.add_metric([], outbox_depth)
        outbox_age.add_metric([], _age(now, _as_datetime(outbox_oldest)))
        return [jobs, depth, age, outbox, outbox_age]


def _as_datetime(value: object) -> datetime | None:
    """MIN() over a coalesce comes back untyped on SQLite (a string); parse it."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
