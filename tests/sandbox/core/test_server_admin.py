"""The shared machinery over real HTTP: TLS server, admin API, faults, request log, view."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
import requests
from fastapi import FastAPI
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from sandbox.core.faults import Fault
from sandbox.core.install import install_sandbox
from sandbox.core.server import SandboxServer
from sandbox.core.state import SandboxState
from sandbox.core.view import RecordDetail, RecordSummary, TimelineItem, ViewKind


class _People:
    crm_name = "Test CRM"

    def kinds(self) -> Sequence[ViewKind]:
        return [ViewKind("people", "People")]

    def search(
        self, kind: str, query: str, offset: int, limit: int
    ) -> tuple[int, Sequence[RecordSummary]]:
        names = ["Nguyễn Văn An", "Tamm <script>"]
        hits = [RecordSummary(str(i), n) for i, n in enumerate(names) if query in n]
        return len(hits), hits[offset : offset + limit]

    def detail(self, kind: str, record_id: str) -> RecordDetail | None:
        if record_id != "0":
            return None
        return RecordDetail(
            "0",
            "Nguyễn Văn An",
            [("Email", "an@example.vn")],
            tasks=[TimelineItem("2025-01-01", "task", "Call back")],
        )


def _render(fault: Fault, scope: Scope) -> Response | None:
    return JSONResponse({"fault": fault.kind.value}, status_code=fault.status_5xx)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    app = FastAPI()
    state = SandboxState(crm="test")

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    install_sandbox(app, state, _render, view=_People())
    with SandboxServer(app, tls=True) as running:
        yield running


@pytest.fixture
def http(server: SandboxServer) -> Iterator[requests.Session]:
    session = server.session()
    session.post(f"{server.base_url}/__sandbox/reset").raise_for_status()
    yield session
    session.close()


def test_tls_with_generated_ca_and_request_log(
    server: SandboxServer, http: requests.Session
) -> None:
    assert server.base_url.startswith("https://127.0.0.1:")
    for _ in range(3):
        assert http.get(f"{server.base_url}/hello").json() == {"hello": "world"}
    log = http.get(f"{server.base_url}/__sandbox/requests", params={"path_glob": "/hello"}).json()
    assert log["count"] == 3
    assert {e["status"] for e in log["entries"]} == {200}
    # Admin calls themselves are not logged.
    assert http.get(f"{server.base_url}/__sandbox/requests").json()["count"] == 3
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{server.base_url}/hello", timeout=5, verify=True)


def test_injected_5xx_is_rendered_and_counted(
    server: SandboxServer, http: requests.Session
) -> None:
    profile = {"rules": [{"route": "GET /hello", "error_5xx": 1.0, "status_5xx": 502, "times": 1}]}
    http.put(f"{server.base_url}/__sandbox/faults", json=profile).raise_for_status()
    first = http.get(f"{server.base_url}/hello")
    assert (first.status_code, first.json()) == (502, {"fault": "error_5xx"})
    assert http.get(f"{server.base_url}/hello").status_code == 200
    faults = http.get(f"{server.base_url}/__sandbox/faults").json()
    assert faults["injected"] == {"error_5xx": 1}


def test_reset_and_timeout_drop_the_connection(
    server: SandboxServer, http: requests.Session
) -> None:
    profile = {"rules": [{"route": "GET /hello", "reset": 1.0, "times": 1}]}
    http.put(f"{server.base_url}/__sandbox/faults", json=profile).raise_for_status()
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(f"{server.base_url}/hello")
    profile = {"rules": [{"route": "GET /hello", "timeout": 1.0, "timeout_seconds": 1.0}]}
    http.put(f"{server.base_url}/__sandbox/faults", json=profile).raise_for_status()
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(f"{server.base_url}/hello", timeout=0.3)
    http.put(f"{server.base_url}/__sandbox/faults/none").raise_for_status()
    assert http.get(f"{server.base_url}/hello").status_code == 200
    statuses = [
        e["status"] for e in http.get(f"{server.base_url}/__sandbox/requests").json()["entries"]
    ]
    assert statuses[0] == 0


def test_bad_admin_input_is_a_clear_422(server: SandboxServer, http: requests.Session) -> None:
    bad = http.put(f"{server.base_url}/__sandbox/faults", json={"rules": [{"slow": 2}]})
    assert bad.status_code == 422
    clock = http.post(f"{server.base_url}/__sandbox/clock", json={"advance": 1, "reset": True})
    assert clock.status_code == 422
    assert "exactly one" in clock.text
    unknown = http.put(f"{server.base_url}/__sandbox/faults/nasty")
    assert unknown.status_code == 404
    assert "known profiles" in unknown.json()["detail"]


def test_clock_over_http(server: SandboxServer, http: requests.Session) -> None:
    body = http.post(
        f"{server.base_url}/__sandbox/clock", json={"set": "2025-03-01T00:00:00Z"}
    ).json()
    assert body == {"now": "2025-03-01T00:00:00+00:00", "frozen": True}
    body = http.post(f"{server.base_url}/__sandbox/clock", json={"advance": 60}).json()
    assert body["now"] == "2025-03-01T00:01:00+00:00"


def test_view_pages_search_escape_and_404(server: SandboxServer, http: requests.Session) -> None:
    page = http.get(f"{server.base_url}/__sandbox/view/people", params={"q": "Tamm"}).text
    assert "1 match(es)" in page
    assert "Tamm &lt;script&gt;" in page
    assert "<script>" not in page
    detail = http.get(f"{server.base_url}/__sandbox/view/people/0").text
    assert "an@example.vn" in detail
    assert "Call back" in detail
    assert http.get(f"{server.base_url}/__sandbox/view/people/9").status_code == 404
    assert http.get(f"{server.base_url}/__sandbox/view/nothing").status_code == 404


def test_accepted_connections_have_nodelay(server: SandboxServer) -> None:
    # The listener's protocol is what makes asyncio set TCP_NODELAY on accepted sockets.
    import socket

    assert server._socket is not None
    assert server._socket.proto == socket.IPPROTO_TCP
