"""What the HTTP application runs on: one typed, frozen `Services`, built by the composition
root (`service.main.create_app`) and kept as the app's only state (`app.state.services`).

It lives in the API tier, not beside `main`, because it is the API's view of the composition:
the routes, middleware and `deps` read it, and it holds API parts (the rate limiter). `main`
builds it, so nothing here picks an adapter. Routes take its parts as `Annotated` dependencies
(`service.api.deps`); tests read it with `services_of(client.app)` and swap a part with
`replace_services(app, part=...)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from starlette.applications import Starlette

from service.api.ratelimit import RateLimiter
from service.config import Settings
from service.jobs import JobQueue, JobRunner
from service.ports import Clock, CrmConnection
from service.realtime.changes import Inbox
from service.scoring.customer import ScoringModels
from service.sentiment.shared import SharedAnalyzer
from service.store.churn_models import ChurnModelRepository
from service.store.erasure import ErasureStore
from service.store.keys import ApiKeyRepository
from service.store.profiles import ProfileRepository
from service.store.reports import ReportRepository
from service.usecases.customer_view import CustomerViews
from service.usecases.messages import ReceiveMessage
from service.usecases.model_cache import PurchaseModels
from service.usecases.sync import SyncStores
from service.webhooks import SecretVault, WebhookOutbox
from service.webhooks.egress import EgressPolicy
from service.webhooks.store import WebhookStore


@dataclass(frozen=True, repr=False)
class Services:
    """Everything a request may need, built once per app. Frozen: a part is swapped by
    replacing the whole object (`replace_services`), never by assigning to it."""

    settings: Settings
    engine: Engine
    clock: Clock
    keys: ApiKeyRepository
    rate_limiter: RateLimiter
    metrics_registry: CollectorRegistry
    jobs: JobQueue
    job_runner: JobRunner | None  # None when this process runs no jobs (`CEM_JOBS__ENABLED`)
    # The EventSink the use cases emit flag/task/score events to.
    webhooks: WebhookOutbox
    webhook_repository: WebhookStore
    webhook_vault: SecretVault
    webhook_egress: EgressPolicy  # the subscription URL guard (tests swap its resolver)
    # The process's one sentiment analyzer (API and jobs), built on first use.
    analyzer_factory: SharedAnalyzer
    build_connection: Callable[[str], CrmConnection]
    sync_stores: Callable[[], SyncStores]
    # Real-time paths: fitted purchase models per connection (refitted hourly), the CRM events
    # already applied by this process, and the fields we push (our writes coming back as
    # events are ignored).
    purchase_models: PurchaseModels
    realtime: Inbox
    own_fields: Callable[[str], frozenset[str]]
    receive_message: ReceiveMessage
    # Read-side repositories (each a thin wrapper of the engine, shared by every request).
    profiles: ProfileRepository
    views: CustomerViews
    reports: ReportRepository
    churn_models: ChurnModelRepository
    erasure: ErasureStore
    # The models stateless `POST /v1/score` scores with (the defaults: it has no history).
    scoring_models: ScoringModels = field(default_factory=ScoringModels)

    def __repr__(self) -> str:
        # Names only: the settings and the engine hold credentials.
        return f"Services({', '.join(f.name for f in dataclasses.fields(self))})"


def services_of(app: Starlette) -> Services:
    """The services of an app `create_app` built."""
    services: Services = app.state.services
    return services


def replace_services(app: Starlette, **parts: Any) -> Services:
    """Swap parts of an app's services (tests: a spy connection builder, a dead engine)."""
    services = dataclasses.replace(services_of(app), **parts)
    app.state.services = services
    return services
