"""The only module that talks to Qualtrics over HTTP: auth, timeouts, pacing, retries.

No maintained Python SDK exists (docs/qualtrics.md "Why no SDK"), so this is a thin httpx
client on the v3 REST API. Every answer is an envelope `{"result", "meta"}`; a refused call
(a status outside 2xx) raises `QualtricsAnswerError` inside an attempt, which `call` maps
through the error table (errors.py) and hands to the one retry layer (adapters/retry.py).

Authentication: a user's API token in `X-API-TOKEN`, or OAuth client credentials
(`POST /oauth2/token`, Basic client_id:client_secret, `grant_type=client_credentials`), the
access token sent as `Authorization: Bearer` and fetched again once when a call answers 401.
The brand's limit (3,000 requests a minute, all its users together) is paced here with the
shared moving-window pacer, at `rate_share` of it.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx

from adapters.errors import error_body, transport_error
from adapters.pacing import BURST, Pacer, Window
from adapters.qualtrics.errors import map_answer
from adapters.qualtrics.settings import QualtricsSettings
from adapters.retry import RetryPolicy, call_with_retry
from service.ports import CrmConfigError, CrmUnavailableError

T = TypeVar("T")
LABEL = "Qualtrics"
# The brand-wide limit (docs/qualtrics.md "Rate limits").
BRAND_REQUESTS_PER_MINUTE = 3000


class QualtricsAnswerError(Exception):
    """Qualtrics refused a call: its status, parsed body and headers (never the request's
    headers, which carry the token)."""

    def __init__(self, status: int, body: dict[str, Any], headers: Mapping[str, str]) -> None:
        super().__init__(f"Qualtrics answered {status}")
        self.status = status
        self.body = body
        self.headers = dict(headers)


def _answer(response: httpx.Response) -> httpx.Response:
    """The response when it is a success, else `QualtricsAnswerError`."""
    if not 200 <= response.status_code < 300:
        raise QualtricsAnswerError(
            response.status_code, error_body(response.content), response.headers
        )
    return response


class QualtricsClient:
    """A Qualtrics brand: `call(fn)` runs `fn(http)` (an `httpx.Client` on the API base) with
    auth, pacing and retries; the helpers below return the envelope's `result`."""

    def __init__(
        self,
        name: str,
        settings: QualtricsSettings,
        policy: RetryPolicy | None = None,
        *,
        pacing_url: str | None = None,
    ) -> None:
        if not settings.api_token and not (settings.client_id and settings.client_secret):
            raise CrmConfigError(
                f"connection {name}: set API_TOKEN, or CLIENT_ID and CLIENT_SECRET",
                connection=name,
            )
        try:
            self.base_url = settings.api_base()
        except ValueError as error:
            raise CrmConfigError(f"connection {name}: {error}", connection=name) from None
        self.name = name
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self.timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
        share = max(1, int(BRAND_REQUESTS_PER_MINUTE * settings.rate_share))
        self.pacer = Pacer(LABEL, name, {BURST: Window(share, 60)}, storage_url=pacing_url)
        self.calls = 0
        self._http: httpx.Client | None = None
        self._bearer: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"QualtricsClient(name={self.name!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    def _verify(self) -> ssl.SSLContext | bool:
        if self.settings.ca_bundle is None:
            return True
        # A missing file raises FileNotFoundError here, inside the attempt: a TLS config error.
        return ssl.create_default_context(cafile=str(self.settings.ca_bundle))

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(
                    base_url=self.base_url,
                    timeout=self.timeout,
                    verify=self._verify(),
                    trust_env=False,
                    follow_redirects=False,
                )
            return self._http

    def auth_headers(self, http: httpx.Client) -> dict[str, str]:
        """The headers that authenticate a call (the OAuth token fetched when none is held)."""
        s = self.settings
        if s.api_token is not None:
            return {"X-API-TOKEN": s.api_token.get_secret_value()}
        with self._lock:
            bearer = self._bearer
        if bearer is None:
            bearer = self._fetch_token(http)
            with self._lock:
                self._bearer = bearer
        return {"Authorization": f"Bearer {bearer}"}

    def _fetch_token(self, http: httpx.Client) -> str:
        s = self.settings
        secret = s.client_secret.get_secret_value() if s.client_secret else ""
        self.calls += 1
        response = http.post(
            self.settings.token_url(),
            data={"grant_type": "client_credentials", "scope": s.oauth_scope},
            auth=(s.client_id or "", secret),
        )
        body = error_body(response.content)
        if response.status_code == 200 and body.get("access_token"):
            return str(body["access_token"])
        raise map_answer(
            response.status_code, body, response.headers, self.name, prefix="token request"
        )

    def _attempt(self, fn: Callable[[httpx.Client], T]) -> T:
        oauth = self.settings.api_token is None
        for second_try in (False, True):
            try:
                http = self._client()
                self.pacer.acquire(BURST)
                self.calls += 1
                return fn(http)
            except QualtricsAnswerError as error:
                if error.status == 401 and oauth and not second_try:
                    with self._lock:
                        self._bearer = None  # the access token expired: fetch another, once
                    continue
                raise map_answer(error.status, error.body, error.headers, self.name) from error
            except httpx.TimeoutException as error:
                raise CrmUnavailableError(
                    f"{LABEL} did not answer in time ({type(error).__name__}; retried later)",
                    connection=self.name,
                ) from error
            except (httpx.TransportError, OSError) as error:
                raise transport_error(error, LABEL, self.base_url, self.name) from error
        raise AssertionError("unreachable: the loop returns or raises")

    def call(self, fn: Callable[[httpx.Client], T]) -> T:
        """`fn(http)` with auth, pacing and retries; refusals mapped through the error table."""
        return call_with_retry(lambda: self._attempt(fn), self.policy, crm=LABEL)

    # --- the calls the reader and writer make -----------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """One API call; the envelope's `result`."""

        def send(http: httpx.Client) -> Any:
            response = _answer(
                http.request(
                    method, path, json=json, params=params, headers=self.auth_headers(http)
                )
            )
            body = error_body(response.content)
            if "result" not in body:
                raise CrmUnavailableError(
                    f"{LABEL} answered {method} {path} without a result envelope",
                    connection=self.name,
                )
            return body["result"]

        return self.call(send)

    def download(self, path: str) -> bytes:
        """A file's bytes (an export's zip), read inside the attempt so a dropped body is
        retried too."""

        def send(http: httpx.Client) -> bytes:
            response = _answer(http.get(path, headers=self.auth_headers(http)))
            return response.content

        return self.call(send)

    def start_export(self, survey_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """`POST /surveys/{id}/export-responses` -> `{progressId, percentComplete, status}`."""
        result: dict[str, Any] = self.request(
            "POST", f"/surveys/{survey_id}/export-responses", json=dict(body)
        )
        return result

    def export_progress(self, survey_id: str, progress_id: str) -> dict[str, Any]:
        """`GET …/export-responses/{progressId}` -> `{status, percentComplete, fileId,
        continuationToken?}`."""
        result: dict[str, Any] = self.request(
            "GET", f"/surveys/{survey_id}/export-responses/{progress_id}"
        )
        return result

    def export_file(self, survey_id: str, file_id: str) -> bytes:
        """`GET …/export-responses/{fileId}/file`: the zip (one file inside)."""
        return self.download(f"/surveys/{survey_id}/export-responses/{file_id}/file")

    def response(self, survey_id: str, response_id: str) -> dict[str, Any]:
        """`GET /surveys/{id}/responses/{responseId}` -> `{responseId, values, labels, ...}`."""
        result: dict[str, Any] = self.request(
            "GET", f"/surveys/{survey_id}/responses/{response_id}"
        )
        return result

    def subscriptions(self) -> list[dict[str, Any]]:
        """`GET /eventsubscriptions/`: the brand's event subscriptions."""
        result = self.request("GET", "/eventsubscriptions/")
        elements = result.get("elements") if isinstance(result, dict) else None
        return list(elements or [])

    def subscribe(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """`POST /eventsubscriptions/` -> `{id}`."""
        result: dict[str, Any] = self.request("POST", "/eventsubscriptions/", json=dict(body))
        return result
