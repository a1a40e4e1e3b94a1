"""Process-wide Prometheus collectors for the work behind the HTTP API.

The HTTP collectors belong to one app's registry (service/api/middleware.py); these count what
the process does wherever it happens — job runs, webhook deliveries, CRM calls, quota use,
sentiment throughput — so they are created once, in no registry, and every app built in this
process registers the same objects (`register_process_metrics`). Gauges read from the
database at scrape time (jobs by state, queue and outbox depth) are in service/store/gauges.py.

With `cem serve --workers N` each worker process counts its own work and a scrape reaches one
of them; sum with `sum without (instance, pid)` or scrape each worker (docs/operations.md).

Label values are bounded: job kinds and CRM names are fixed sets, statuses are HTTP codes or a
few words, connections are configured names, languages the configured ones (or `und`).
"""

from __future__ import annotations

from prometheus_client import (
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

JOB_DURATION = Histogram(
    "cem_job_duration_seconds",
    "Time one run of a job took, by kind and outcome (succeeded, failed, cancelled, paused, "
    "requeued)",
    ["kind", "outcome"],
    registry=None,
    buckets=(0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600),
)
WEBHOOK_DELIVERIES = Counter(
    "cem_webhook_deliveries",
    "Webhook delivery attempts by outcome (delivered, retry, failed, disabled)",
    ["outcome"],
    registry=None,
)
CRM_CALLS = Counter(
    "cem_crm_calls",
    "CRM API calls by CRM and status: ok, the HTTP status of a failure (429 = rate limited), "
    "or tls / unreachable when no answer came",
    ["crm", "status"],
    registry=None,
)
CRM_RATE_LIMIT_WAIT = Counter(
    "cem_crm_rate_limit_wait_seconds",
    "Seconds spent waiting for a CRM's rate limit (paced calls and 429 back-offs)",
    ["crm"],
    registry=None,
)
CRM_QUOTA_USED = Gauge(
    "cem_crm_quota_used_ratio",
    "Share of the daily API quota used, as the CRM last reported it (0-1)",
    ["crm", "connection"],
    registry=None,
)
SENTIMENT_UNITS = Counter(
    "cem_sentiment_units",
    "Texts scored by the sentiment pipeline, by the stage that answered (cache, a fast stage, "
    "the primary backend) and language; a long text counts once per sentence",
    ["stage", "language"],
    registry=None,
)
SENTIMENT_TEXTS = Counter(
    "cem_sentiment_texts",
    "Texts given to the sentiment pipeline, by detected language",
    ["language"],
    registry=None,
)

PROCESS_METRICS = (
    JOB_DURATION,
    WEBHOOK_DELIVERIES,
    CRM_CALLS,
    CRM_RATE_LIMIT_WAIT,
    CRM_QUOTA_USED,
    SENTIMENT_UNITS,
    SENTIMENT_TEXTS,
)


def register_process_metrics(registry: CollectorRegistry) -> None:
    """Expose this process's collectors (and its CPU, memory, file descriptors and Python
    version, from prometheus_client's own collectors) in `registry`."""
    for collector in (*PROCESS_METRICS, PROCESS_COLLECTOR, PLATFORM_COLLECTOR):
        registry.register(collector)
