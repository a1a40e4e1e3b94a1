"""The real broker for the task-queue tests: RabbitMQ from CEM_TEST_BROKER_URL (the Makefile
points it at this machine's server). Each test gets its own queue, deleted afterwards, so
parallel runs never take each other's messages. With CI=true an unreachable broker fails the
run instead of skipping (the rule tests/conftest.py applies to PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pika
import pytest

BROKER_ENV = "CEM_TEST_BROKER_URL"
HINT = (
    f"set {BROKER_ENV}=amqp://guest:guest@127.0.0.1:5672/ (make test does) to run the queue tests"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def broker_url() -> str:
    """The test broker's URL; skips (fails under CI=true) when unset or unreachable."""
    url = os.environ.get(BROKER_ENV)
    if not url:
        if _in_ci():
            pytest.fail(f"CI=true but {BROKER_ENV} is not set")
        pytest.skip(HINT)
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except pika.exceptions.AMQPError as error:
        message = f"the test broker is unreachable ({type(error).__name__})"
        if _in_ci():
            pytest.fail(f"{message}; CI requires it")
        pytest.skip(f"{message}; {HINT}")
    return url


@contextmanager
def fresh_queue(url: str) -> Iterator[str]:
    """A queue name no one else uses; its queues (main, delay, dead-letter) deleted at the end."""
    name = f"cem-test-{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        for queue in (name, f"{name}.DQ", f"{name}.XQ"):
            channel.queue_delete(queue)
        connection.close()
