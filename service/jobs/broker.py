"""The distributed task queue: Dramatiq on RabbitMQ (or Redis), when `CEM_QUEUE__BROKER_URL` is set.

The `jobs` table stays the record (state, progress, checkpoint, cancel, the one-at-a-time lock);
a message only names a job (or a task of one, service/jobs/tasks.py) to run now. Why Dramatiq
and how redelivery, retries and shutdown work: docs/queue.md. In short:

- a message is acknowledged after its job has run (Dramatiq's default), so a worker that dies
  (SIGKILL, OOM, a lost host) leaves it unacknowledged and the broker delivers it again;
- the worker that gets it again finds the job `running` under the dead worker's id; until that
  heartbeat is stale it cannot tell death from slowness, so it raises `Retry` and Dramatiq's
  Retries middleware (the one place that retries) sends the message again with exponential
  back-off; once the heartbeat is stale the job is re-queued and claimed, and resumes from its
  checkpoint;
- a worker told to stop hands its running jobs back (`queued`, checkpoint kept) and asks for the
  message again, so another worker resumes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Middleware,
    Pipelines,
    Retries,
    ShutdownNotifications,
)

from service.jobs.settings import JobSettings, QueueSettings

log = logging.getLogger(__name__)

RUN_JOB = "cem.run_job"
"""The actor every job message names: its one argument is the job id."""


def make_broker(settings: QueueSettings) -> dramatiq.Broker:
    """The broker for `settings.broker_url` (amqp:// → RabbitMQ, redis:// → Redis)."""
    if settings.broker_url is None:
        raise ValueError("no broker configured (CEM_QUEUE__BROKER_URL)")
    url = settings.broker_url.get_secret_value()
    # pika logs every connection step at INFO (sockets, frames); its warnings are what matter.
    logging.getLogger("pika").setLevel(logging.WARNING)
    # No TimeLimit middleware: a sync may rightly run for hours and has its own cancel; Dramatiq's
    # default limit (10 minutes) would kill it mid-page.
    middleware: list[Middleware] = [
        AgeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(),
    ]
    if url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, middleware=middleware)  # type: ignore[no-untyped-call]
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    # Publisher confirms: `send` returns only once RabbitMQ has the message, so a job whose send
    # failed is known (and re-sent by the sweep) instead of silently lost.
    return RabbitmqBroker(url=url, middleware=middleware, confirm_delivery=True)


def declare(
    broker: dramatiq.Broker,
    name: str,
    function: Callable[..., Any],
    queue: QueueSettings,
    jobs: JobSettings,
) -> dramatiq.Actor[Any, Any]:
    """Declare the actor `name` on `broker` with our retry policy: back-off from
    `retry_min_backoff_seconds` up to the time a dead worker's job takes to go stale."""
    decorate = dramatiq.actor(
        broker=broker,
        actor_name=name,
        queue_name=queue.queue_name,
        max_retries=queue.retry_max_attempts,
        min_backoff=int(queue.retry_min_backoff_seconds * 1000),
        max_backoff=int(max(jobs.stale_after_seconds, queue.retry_min_backoff_seconds) * 1000),
    )
    return decorate(function)


def _unused(*_args: Any) -> None:  # pragma: no cover  (the sending side never runs actors)
    raise RuntimeError("this process only sends messages")


class Sender:
    """What the API process (and `cem sync --queue`) holds: a broker to send job messages."""

    def __init__(self, queue: QueueSettings, jobs: JobSettings) -> None:
        self.broker = make_broker(queue)
        self._run_job = declare(self.broker, RUN_JOB, _unused, queue, jobs)

    def __call__(self, job_id: str) -> None:
        self._run_job.send(job_id)

    def close(self) -> None:
        self.broker.close()
