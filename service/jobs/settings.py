"""Job runner configuration, nested in the service settings as `CEM_JOBS__…`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class JobSettings(BaseModel):
    """How the in-process runner polls, beats and recovers (reads nothing from the environment)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Run jobs in this process (off: API only).")
    workers: Annotated[int, Field(ge=1, le=64)] = 2
    poll_seconds: Annotated[float, Field(gt=0)] = 1.0
    heartbeat_seconds: Annotated[float, Field(gt=0)] = 5.0
    # A running job whose heartbeat is older than this is presumed dead (crash, kill -9, lost
    # replica) and re-queued; it must comfortably exceed heartbeat_seconds.
    stale_after_seconds: Annotated[float, Field(gt=0)] = 60.0
    max_attempts: Annotated[int, Field(ge=1)] = 3
    # Counters alone are flushed at most this often; a checkpoint is always written at once.
    progress_flush_seconds: Annotated[float, Field(ge=0)] = 1.0
    shutdown_grace_seconds: Annotated[float, Field(ge=0)] = 10.0


BROKER_SCHEMES = ("amqp://", "amqps://", "redis://", "rediss://")


class QueueSettings(BaseModel):
    """The distributed task queue, nested as `CEM_QUEUE__…`. No broker: jobs run in-process
    (`JobSettings`); a broker: `cem worker` processes run them (docs/queue.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # amqp://user:password@host:5672/vhost (RabbitMQ) or redis://…; a secret (it holds one).
    broker_url: SecretStr | None = None
    queue_name: Annotated[str, Field(min_length=1, max_length=64)] = "cem-jobs"
    # Threads per `cem worker` process: each runs one message (a job, or a task of a sync) at
    # a time. One by default: the work is CPU-bound (the e5 model, scoring), so scale with one
    # process per core; the sentiment model's own intra-op threads are CEM_SENTIMENT__THREADS
    # (default 1), so N processes on N cores do not oversubscribe them. A sync job waiting for
    # its tasks runs them itself, so one thread never deadlocks.
    worker_threads: Annotated[int, Field(ge=1, le=64)] = 1
    # A queued job with no message sent for this long gets one again (a lost send, a broker
    # restart without persistence); a duplicate message is harmless: only one claim wins.
    resend_after_seconds: Annotated[float, Field(gt=0)] = 300.0
    # A message whose job is held by a worker that may be dead (its heartbeat not yet stale) is
    # retried by the queue library with exponential back-off from this, up to the staleness.
    retry_min_backoff_seconds: Annotated[float, Field(gt=0)] = 1.0
    retry_max_attempts: Annotated[int, Field(ge=1)] = 30

    @property
    def enabled(self) -> bool:
        return self.broker_url is not None

    @field_validator("broker_url")
    @classmethod
    def _supported_broker(cls, value: SecretStr | None) -> SecretStr | None:
        # The message names no URL: it holds the password.
        if value is not None and not value.get_secret_value().startswith(BROKER_SCHEMES):
            raise ValueError("must start with amqp://, amqps://, redis:// or rediss://")
        return value
