"""A thin httpx client of Zendesk Support's API v2: auth, timeouts, pacing, retries.

No SDK: zenpy, the one complete Python client, is GPL-3.0 (it would bind our Apache-2.0 image),
and no permissively licensed, maintained one exists (docs/zendesk.md "Client"). The calls we
make are few and plain JSON, so this module is the whole client.

- Auth: an API token as Basic `{email}/token:{token}`, or an OAuth access token as a bearer.
- Every call has a (connect, read) timeout; the one retry layer is adapters/retry.py.
- Pacing: the account's window is learnt from `X-Rate-Limit` (per minute); incremental exports
  share a window of their own (10 a minute unless the settings say otherwise).
- Zendesk's next-page links are absolute URLs; they are followed only on our own base URL's
  origin, so credentials never go to another host.

A refused call raises `ZendeskAnswerError` inside the attempt, which `call` maps through the
error table (errors.py), keeping it as the cause.
"""

from __future__ import annotations

import base64
import ssl
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from adapters.errors import TRANSPORT_ERRORS, transport_error
from adapters.pacing import BURST, Pacer, Window
from adapters.retry import RetryPolicy, call_with_retry
from adapters.zendesk.errors import map_answer
from adapters.zendesk.quota import MINUTE, zendesk_window
from adapters.zendesk.settings import ZendeskSettings
from service.ports import CrmConfigError, CrmUnavailableError

INCREMENTAL = "incremental"
API = "/api/v2"
# What may fail below us before any answer: httpx's transport errors (and the OS: a CA file).
HTTP_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError, *TRANSPORT_ERRORS)

Call = Callable[[httpx.Client, httpx.Timeout], httpx.Response]


class ZendeskAnswerError(Exception):
    """Zendesk answered with an error status (the `ApiException` of a plain-HTTP client)."""

    def __init__(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        super().__init__(f"Zendesk answered {status}")
        self.status = status
        self.body = body
        self.headers = dict(headers)


def _answer(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 300:
        raise ZendeskAnswerError(response.status_code, response.content, response.headers)
    return response


class ZendeskClient:
    """A Zendesk account: `call(fn)` runs `fn(http, timeout)` with auth, pacing and retries."""

    def __init__(
        self,
        name: str,
        settings: ZendeskSettings,
        policy: RetryPolicy | None = None,
        *,
        pacing_url: str | None = None,
    ) -> None:
        if settings.base_url is None:
            raise CrmConfigError(f"connection {name}: base_url is required", connection=name)
        if not settings.access_token and not (settings.email and settings.api_token):
            raise CrmConfigError(
                f"connection {name}: set EMAIL and API_TOKEN, or an OAuth ACCESS_TOKEN",
                connection=name,
            )
        self.name = name
        self.settings = settings
        self.policy = policy or RetryPolicy()
        per_minute = settings.incremental_per_minute
        windows = {}
        if per_minute:
            share = max(1, int(per_minute * settings.rate_share))
            windows[INCREMENTAL] = Window(share, MINUTE)
        self.pacer = Pacer("Zendesk", name, windows, storage_url=pacing_url)
        self.timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
        self.calls = 0
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ZendeskClient(name={self.name!r}, base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        return str(self.settings.base_url).rstrip("/")

    def _auth(self) -> str:
        s = self.settings
        if s.email and s.api_token:
            pair = f"{s.email}/token:{s.api_token.get_secret_value()}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        assert s.access_token is not None  # checked in __init__
        return f"Bearer {s.access_token.get_secret_value()}"

    def http(self) -> httpx.Client:
        """The connection pool, built on first use (a missing CA bundle fails here, inside a
        call, so it is reported like any TLS failure)."""
        with self._lock:
            if self._http is None:
                ca = self.settings.ca_bundle
                verify: ssl.SSLContext | bool = (
                    ssl.create_default_context(cafile=str(ca)) if ca else True
                )
                self._http = httpx.Client(
                    base_url=self.base_url,
                    headers={"Authorization": self._auth(), "Accept": "application/json"},
                    timeout=self.timeout,
                    verify=verify,
                    trust_env=False,
                    follow_redirects=False,
                )
            return self._http

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    def _attempt(self, fn: Call, bucket: str) -> dict[str, Any]:
        try:
            if bucket != BURST:
                self.pacer.acquire(bucket)
            counted = self.pacer.acquire(BURST)
            self.calls += 1
            response = _answer(fn(self.http(), self.timeout))
            window = self._share(zendesk_window(response.headers))
            self.pacer.learn(BURST, window, count_call=not counted)
            if not response.content:
                return {}
            parsed = orjson.loads(response.content)
            return parsed if isinstance(parsed, dict) else {"items": parsed}
        except ZendeskAnswerError as error:
            # A refusal that states the window updates it; one without (a proxy's page, a
            # plain-text 429) leaves the known window in place.
            window = self._share(zendesk_window(error.headers))
            if window is not None:
                self.pacer.learn(BURST, window)
            raise map_answer(error.status, error.body, error.headers, self.name) from error
        except httpx.TimeoutException as error:
            raise CrmUnavailableError(
                f"Zendesk did not answer in time ({type(error).__name__}; retried later)",
                connection=self.name,
            ) from error
        except orjson.JSONDecodeError as error:
            raise CrmUnavailableError(
                "Zendesk answered with a body that is not JSON (a proxy's page?); retried later",
                connection=self.name,
            ) from error
        except HTTP_ERRORS as error:
            raise transport_error(error, "Zendesk", self.base_url, self.name) from error

    def call(self, fn: Call, *, bucket: str = BURST) -> dict[str, Any]:
        """Run one request (`fn(http, timeout)` returns the answer) paced, mapped and retried;
        the JSON body is returned."""
        return call_with_retry(lambda: self._attempt(fn, bucket), self.policy, crm="Zendesk")

    def _share(self, window: Window | None) -> Window | None:
        # Leave the rest of the account's minute to its other integrations.
        if window is None:
            return None
        return Window(max(1, int(window.requests * self.settings.rate_share)), window.seconds)

    # --- the requests the reader and writer make ----------------------------------------

    def path(self, path: str) -> str:
        return path if path.startswith(API) else f"{API}{path}"

    def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, incremental: bool = False
    ) -> dict[str, Any]:
        url = self.path(path)
        query = dict(params or {})
        return self.call(
            lambda http, timeout: http.get(url, params=query, timeout=timeout),
            bucket=INCREMENTAL if incremental else BURST,
        )

    def follow(self, url: str, *, incremental: bool = False) -> dict[str, Any]:
        """A next-page link as Zendesk wrote it (absolute), on our own origin only."""
        ours, theirs = urlsplit(self.base_url), urlsplit(url)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise CrmConfigError(
                f"Zendesk pointed the next page at another host ({theirs.netloc}); check "
                "BASE_URL (the account's https://{subdomain}.zendesk.com)",
                connection=self.name,
            )
        relative = theirs.path + (f"?{theirs.query}" if theirs.query else "")
        return self.call(
            lambda http, timeout: http.get(relative, timeout=timeout),
            bucket=INCREMENTAL if incremental else BURST,
        )

    def send(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        url = self.path(path)
        content = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        return self.call(
            lambda http, timeout: http.request(
                method, url, content=content, headers=headers, timeout=timeout
            )
        )
