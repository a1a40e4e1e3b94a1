"""The composition root: `create_app(settings)` wires settings, storage, routes and middleware.

This is the one module that picks concrete implementations (adapters, backends); everything
else receives what it needs from here.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from adapters import registry
from adapters.connector import BuildOptions
from adapters.mapping import MappingError, MappingSet, load_mappings
from service import __version__
from service.api.middleware import BodyGuardMiddleware, HttpMetrics, RequestContextMiddleware
from service.api.problems import install_problem_handlers
from service.api.ratelimit import RateLimiter
from service.api.routes import (
    accounts,
    crm_events,
    customer_actions,
    customers,
    health,
    identity,
    interactions,
    jobs,
    keys,
    models,
    reports,
    score,
    sentiment,
    webhooks,
)
from service.api.services import Services
from service.clock import SYSTEM_CLOCK
from service.config import ConfigError, Settings, load_settings
from service.jobs import (
    CHURN_TRAIN,
    SYNC,
    JobFunction,
    JobQueue,
    JobRegistry,
    JobRunner,
    sync_schedules,
    train_schedules,
)
from service.jobs.broker import Sender
from service.jobs.churn_job import make_churn_train_job
from service.jobs.customer_jobs import ERASE, RESCORE, make_erase_job, make_rescore_job
from service.jobs.sync_job import make_sync_job
from service.jobs.sync_tasks import sync_task_kinds
from service.jobs.tasks import TaskPool
from service.jobs.worker import JobWorker, worker_name
from service.logs import configure_logging
from service.metrics import register_process_metrics
from service.ports import Clock, CrmReader, CrmWriter, ReadOnlyWriter
from service.realtime.changes import Inbox
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.shared import SharedAnalyzer
from service.store.churn_models import ChurnModelRepository
from service.store.cursors import CursorRepository
from service.store.database import check_database, make_engine, upgrade
from service.store.erasure import ErasureStore
from service.store.gauges import StoreCollector
from service.store.job_tasks import JobTaskRepository
from service.store.jobs import JobRepository
from service.store.keys import ApiKeyRepository
from service.store.ledger import PushLedgerRepository
from service.store.profiles import ProfileRepository
from service.store.records import RecordStore
from service.store.reports import ReportRepository
from service.store.rescore_marks import RescoreMarks
from service.store.scores import ScoreHistoryRepository
from service.store.suppression import SuppressionList
from service.store.tasks import TaskLedgerRepository
from service.store.webhooks import WebhookRepository
from service.testing_hooks import scoring_clock
from service.usecases.customer_view import CustomerViews
from service.usecases.erase import ErasureStores
from service.usecases.messages import ReceiveMessage
from service.usecases.model_cache import PurchaseModels
from service.usecases.rescore import rescore_stores
from service.usecases.sync import SyncStores, sync
from service.webhooks import SecretVault, WebhookDispatcher, WebhookOutbox

log = logging.getLogger(__name__)

DESCRIPTION = """\
Customer experience scores beside your CRM. Authenticate with an API key
(`Authorization: Bearer cem_…` or `X-API-Key: cem_…`); scopes are `read` ⊂ `write` ⊂ `admin`.
Every error is an RFC 9457 `application/problem+json` document.
"""


def _raw_body_paths() -> tuple[str, ...]:
    """The webhook paths of connectors whose systems post another format than JSON (forms):
    their own `decode` reads the body, so the JSON-only body guard lets them through."""
    paths: list[str] = []
    for connector in registry.CONNECTORS:
        source = connector.webhooks
        if source is not None and source.decode is not None:
            paths.append(f"/v1/webhooks/{connector.kind}")
            paths.extend(path.split("{", 1)[0] for _name, path in source.aliases)
    return tuple(paths)


def create_app(
    settings: Settings, *, job_registry: JobRegistry | None = None, clock: Clock = SYSTEM_CLOCK
) -> FastAPI:
    """Build the ASGI application for `settings`; `job_registry` holds the job kinds this
    process can run (the `sync` kind among them once the use cases register it); `clock` is
    what every route, use case and job asks for the time."""
    configure_logging(settings.log_level, settings.log_format.value, settings.secret_values())
    check_mappings(settings)
    engine = make_engine(settings.database_url.get_secret_value())
    check_database(engine)  # one line, not a traceback from inside uvicorn's start-up
    if settings.auto_migrate:
        upgrade(engine)
    # One sentiment analyzer per process, shared by the API and the jobs (the model is ~100 MB).
    analyzer = SharedAnalyzer(settings.sentiment)
    if job_registry is None:
        tasks = task_pool(settings, engine, analyzer)
        job_registry = job_kinds(settings, engine, analyzer, tasks, clock=clock)
    # With a broker, jobs run on `cem worker` processes: this process sends their messages and
    # its runner only recovers, wakes, schedules and re-sends (docs/queue.md).
    sender = Sender(settings.queue, settings.jobs) if settings.queue.enabled else None
    job_queue = JobQueue(
        JobRepository(engine), job_registry, dispatch=sender, secrets=settings.secret_values()
    )
    runner = (
        JobRunner(
            job_queue,
            settings.jobs,
            schedules=sync_schedules(settings.connections)
            + train_schedules(settings.connections, settings.churn_training.every_hours),
            secrets=settings.secret_values(),
            resend_after=timedelta(seconds=settings.queue.resend_after_seconds),
            clock=clock.now,
        )
        if settings.jobs.enabled
        else None
    )
    hooks = settings.webhooks
    webhook_repository = WebhookRepository(engine)
    vault = SecretVault(
        hooks.encryption_key.get_secret_value() if hooks.encryption_key else None,
        [key.get_secret_value() for key in hooks.old_encryption_keys],
    )
    egress = hooks.egress_policy()
    dispatcher = (
        WebhookDispatcher(webhook_repository, vault, hooks, egress=egress, clock=clock.now)
        if hooks.enabled
        else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if runner is not None:
            runner.start()
        if dispatcher is not None:
            dispatcher.start()
        log.info("cem-bridge %s started", __version__)
        try:
            yield
        finally:
            if dispatcher is not None:
                dispatcher.stop()
            if runner is not None:
                runner.stop()
            if sender is not None:
                sender.close()
            engine.dispose()

    docs = settings.api.docs_enabled
    app = FastAPI(
        title="cem-bridge",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    registry = CollectorRegistry()
    register_process_metrics(registry)
    registry.register(StoreCollector(engine, clock=clock.now))
    stores = functools.partial(sync_stores, settings, engine)
    connections = functools.partial(build_connection, settings)
    purchase = PurchaseModels(settings.churn, clock)
    profiles = ProfileRepository(engine)
    services = Services(
        settings=settings,
        engine=engine,
        clock=clock,
        keys=ApiKeyRepository(engine),
        rate_limiter=RateLimiter(settings.api.rate_limit_per_minute),
        metrics_registry=registry,
        jobs=job_queue,
        job_runner=runner,
        webhooks=WebhookOutbox(engine, clock=clock.now),
        webhook_repository=webhook_repository,
        webhook_vault=vault,
        webhook_egress=egress,
        analyzer_factory=analyzer,
        build_connection=connections,
        sync_stores=stores,
        purchase_models=purchase,
        realtime=Inbox(),
        own_fields=functools.cache(functools.partial(own_fields, settings)),
        receive_message=ReceiveMessage(
            settings.connections, connections, stores, analyzer, purchase, clock
        ),
        profiles=profiles,
        views=CustomerViews(profiles, RecordStore(engine)),
        reports=ReportRepository(engine),
        churn_models=ChurnModelRepository(engine),
        erasure=ErasureStore(engine),
    )
    app.state.services = services

    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(keys.router)
    app.include_router(sentiment.router)
    app.include_router(score.router)
    app.include_router(jobs.router)
    app.include_router(webhooks.router)
    app.include_router(interactions.router)
    app.include_router(crm_events.router)
    app.include_router(customers.router)
    app.include_router(customer_actions.router)
    app.include_router(identity.router)
    app.include_router(accounts.router)
    app.include_router(reports.router)
    app.include_router(models.router)

    # Added last = runs first: the request context wraps everything, including the body guard.
    app.add_middleware(
        BodyGuardMiddleware,
        max_body_bytes=settings.api.max_body_bytes,
        raw_body_prefixes=_raw_body_paths(),
    )
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(registry))
    return app


@dataclass(frozen=True)
class Connection:
    """One configured connection with its adapters, built by its kind's connector."""

    name: str
    kind: str
    reader: CrmReader
    writer: CrmWriter


def connection_mappings(settings: Settings, name: str) -> MappingSet:
    """The mappings a connection uses: its own directory, else the service's, else the shipped."""
    connection = settings.connections[name]
    mappings = load_mappings(connection.mappings_dir or settings.mappings_dir)
    registry.check_mappings(mappings)
    return mappings


def build_connection(settings: Settings, name: str) -> Connection:
    """The reader and writer of the connection `name` (ConfigError when it is not configured)."""
    if name not in settings.connections:
        known = ", ".join(sorted(settings.connections)) or "none configured"
        raise ConfigError(f"unknown connection {name!r} (known: {known})")
    connection = settings.connections[name]
    pacing = settings.pacing.storage_url
    wiring = registry.connector(connection.kind).connect(
        name,
        connection,
        connection_mappings(settings, name),
        BuildOptions(pacing_url=pacing.get_secret_value() if pacing else None),
    )
    writer = wiring.writer if wiring.writer is not None else ReadOnlyWriter(name)
    return Connection(name, connection.kind, wiring.reader, writer)


def own_fields(settings: Settings, name: str) -> frozenset[str]:
    """The CRM fields only we write on the connection `name`: its push mappings' fields and
    external ids, and the task key our tasks carry (how our own writes are told apart)."""
    kind = settings.connections[name].kind
    return registry.connector(kind).own_fields(connection_mappings(settings, name))


def check_mappings(settings: Settings) -> None:
    """Validate every mapping directory in use at start-up; ConfigError names file, line, field."""
    try:
        registry.check_mappings(load_mappings(settings.mappings_dir))
        for name in settings.connections:
            connection_mappings(settings, name)
    except MappingError as error:
        raise ConfigError(f"invalid mapping: {error}") from None


def sync_stores(settings: Settings, engine: Engine) -> SyncStores:
    """The repositories the sync use case needs, on one engine (events to the webhook outbox)."""
    return SyncStores(
        RecordStore(
            engine,
            keep_text=settings.keep_message_text,
            suppressions=SuppressionList(engine, settings.suppression_secret()),
            kinds={name: c.kind for name, c in settings.connections.items()},
        ),
        CursorRepository(engine),
        PushLedgerRepository(engine),
        TaskLedgerRepository(engine),
        ScoreHistoryRepository(engine),
        WebhookOutbox(engine),
        ChurnModelRepository(engine),
        RescoreMarks(engine),
    )


def job_kinds(
    settings: Settings,
    engine: Engine,
    analyzer: Callable[[], SentimentAnalyzer],
    tasks: TaskPool | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> JobRegistry:
    """Every job kind of this deployment (the API's runner and `cem worker` run the same).
    The sync and churn-train jobs score by `scoring_clock(clock)`: the fault suites fix it."""
    registry = JobRegistry()
    scoring = scoring_clock(clock)
    registry.register(SYNC, _sync_job(settings, engine, analyzer, tasks, clock, scoring))
    register_customer_jobs(registry, settings, engine, clock)
    registry.register(
        CHURN_TRAIN,
        make_churn_train_job(
            lambda: (RecordStore(engine), ChurnModelRepository(engine)),
            flag_policy=settings.churn,
            policy=settings.churn_training,
            clock=scoring,
        ),
    )
    return registry


def create_worker(settings: Settings) -> JobWorker:
    """A `cem worker` process's actors on this deployment's job kinds (needs a broker)."""
    configure_logging(settings.log_level, settings.log_format.value, settings.secret_values())
    check_mappings(settings)
    engine = make_engine(settings.database_url.get_secret_value())
    check_database(engine)
    if settings.auto_migrate:
        upgrade(engine)
    analyzer = SharedAnalyzer(settings.sentiment)
    tasks = task_pool(settings, engine, analyzer)
    registry = job_kinds(settings, engine, analyzer, tasks)
    queue = JobQueue(JobRepository(engine), registry, secrets=settings.secret_values())
    return JobWorker(
        queue, settings.jobs, settings.queue, secrets=tuple(settings.secret_values()), tasks=tasks
    )


def task_pool(
    settings: Settings, engine: Engine, analyzer: Callable[[], SentimentAnalyzer]
) -> TaskPool:
    """The tasks a sync fans out (text chunks, customer batches) and how this process runs
    them; a worker adds the sending of their messages (service/jobs/worker.py)."""
    kinds = sync_task_kinds(
        lambda name: build_connection(settings, name).writer,
        lambda: sync_stores(settings, engine),
        analyzer,
        settings.churn,
    )
    return TaskPool(
        JobTaskRepository(engine),
        kinds,
        worker=worker_name(),
        lease=timedelta(seconds=settings.jobs.stale_after_seconds),
        secrets=settings.secret_values(),
    )


def create_app_from_environment() -> FastAPI:
    """`create_app` with the settings of the environment: the factory each worker process of
    `cem serve --workers N` calls."""
    return create_app(load_settings())


def _sync_job(
    settings: Settings,
    engine: Engine,
    analyzer: Callable[[], SentimentAnalyzer],
    tasks: TaskPool | None,
    clock: Clock,
    scoring: Clock,
) -> JobFunction:
    """The `sync` job kind on this deployment's adapters and stores (it scores at `scoring`'s
    time, and pauses until a time on `clock`)."""

    def build(name: str) -> tuple[CrmReader, CrmWriter]:
        connection = build_connection(settings, name)
        return connection.reader, connection.writer

    run = functools.partial(sync, flag_policy=settings.churn)
    return make_sync_job(
        build,
        lambda: sync_stores(settings, engine),
        analyzer,
        run=run,
        clock=clock,
        as_of_clock=scoring,
        tasks=tasks,
    )


def erasure_writer(settings: Settings, name: str) -> CrmWriter | None:
    """The writer an erasure clears the connection `name` with; None when its connector
    declares no erasure (it takes none of our writes)."""
    kind = settings.connections[name].kind
    if not registry.connector(kind).capabilities.erasure:
        return None
    return build_connection(settings, name).writer


def register_customer_jobs(
    registry: JobRegistry, settings: Settings, engine: Engine, clock: Clock = SYSTEM_CLOCK
) -> None:
    """The `erase` and `rescore` kinds (many may run at once: one customer each)."""

    def writer(name: str) -> CrmWriter:
        return build_connection(settings, name).writer

    registry.register(
        ERASE,
        make_erase_job(
            functools.partial(erasure_writer, settings),
            lambda: ErasureStores(
                ErasureStore(engine, SuppressionList(engine, settings.suppression_secret())),
                TaskLedgerRepository(engine),
            ),
            clock=clock,
        ),
        exclusive=False,
    )
    registry.register(
        RESCORE,
        make_rescore_job(
            writer,
            lambda: rescore_stores(sync_stores(settings, engine), engine),
            lambda: ErasureStore(engine),
            flag_policy=settings.churn,
            clock=clock,
        ),
        exclusive=False,
    )
