"""Counting the requests each targeted fuzz test sends, for bench/results/fuzz.json."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.fuzz.report import TARGETED


@contextmanager
def count_requests(client: TestClient, request: pytest.FixtureRequest) -> Iterator[None]:
    """Count every request `client` sends while inside, under the running test's module."""
    module = request.node.nodeid.split("::")[0]

    def count(_request: httpx.Request) -> None:
        TARGETED[module] += 1

    client.event_hooks["request"].append(count)
    try:
        yield
    finally:
        client.event_hooks["request"].remove(count)
