"""The only module that talks to hubspot-api-client: auth, timeouts, retries, quota.

The SDK builds a new urllib3 pool on every API-property access (crm-api-facts §1.3), so the API
objects are built once and kept. Its own retries are switched off (`retry=False`): the one retry
layer is adapters/retry.py. Timeouts are not global in the SDK, so every call passes
`_request_timeout=(connect, read)`.

Authentication: a private-app token (`ACCESS_TOKEN`), or OAuth with `CLIENT_ID`,
`CLIENT_SECRET` and `REFRESH_TOKEN`, access tokens refreshed on expiry at HubSpot's
date-versioned `POST /oauth/2026-03/token` (every parameter in the form body). HubSpot retires
the v1 endpoint (`/oauth/v1/token`) on 2027-02-16. Its errors are RFC 6749 bodies
(`error`, `error_description`): `invalid_grant` (refresh token revoked, app uninstalled) and
`invalid_client` are config errors — a person must reconnect the portal — and never retried.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
import requests
from hubspot import HubSpot

from adapters.hubspot.errors import error_body, map_error, map_status
from adapters.hubspot.quota import hubspot_usage, hubspot_window
from adapters.hubspot.settings import HubSpotSettings
from adapters.pacing import BURST, SEARCH, Pacer, Window
from adapters.quota import QuotaGuard
from adapters.retry import RetryPolicy, call_with_retry
from service.ports import CrmConfigError, CrmError

T = TypeVar("T")
TOKEN_PATH = "/oauth/2026-03/token"  # noqa: S105  (a path, not a secret)


class HubSpotClient:
    """A HubSpot portal: `call(fn)` runs `fn(sdk, timeout)` with auth, pacing, retries and the
    quota guard."""

    def __init__(
        self,
        name: str,
        settings: HubSpotSettings,
        policy: RetryPolicy | None = None,
        *,
        pacing_url: str | None = None,
    ) -> None:
        if settings.base_url is None:
            raise CrmConfigError(f"connection {name}: base_url is required", connection=name)
        if not settings.access_token and not (settings.client_id and settings.refresh_token):
            raise CrmConfigError(
                f"connection {name}: set ACCESS_TOKEN, "
                "or CLIENT_ID, CLIENT_SECRET and REFRESH_TOKEN",
                connection=name,
            )
        self.name = name
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self.quota = QuotaGuard(name, settings.quota_share, crm="hubspot")
        # The burst window is learnt from the first answer; search has no headers to learn from.
        searches = settings.search_per_second
        self.pacer = Pacer(
            "HubSpot",
            name,
            {SEARCH: Window(searches, 1)} if searches else {},
            storage_url=pacing_url,
        )
        self.timeout = (settings.connect_timeout, settings.read_timeout)
        self.calls = 0
        self._sdk: HubSpot | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HubSpotClient(name={self.name!r}, base_url={str(self.settings.base_url)!r})"

    @property
    def base_url(self) -> str:
        return str(self.settings.base_url).rstrip("/")

    def _token(self) -> str:
        s = self.settings
        if s.access_token and not s.refresh_token:
            return s.access_token.get_secret_value()
        form = {
            "grant_type": "refresh_token",
            "client_id": s.client_id or "",
            "client_secret": s.client_secret.get_secret_value() if s.client_secret else "",
            "refresh_token": s.refresh_token.get_secret_value() if s.refresh_token else "",
        }
        self.calls += 1
        try:
            response = requests.post(
                f"{self.base_url}{TOKEN_PATH}",
                data=form,
                timeout=self.timeout,
                verify=str(s.ca_bundle) if s.ca_bundle else True,
            )
        except (requests.RequestException, OSError) as error:  # OSError: no CA bundle file
            raise map_error(error, self.name, self.base_url) from None
        body = error_body(response.content)
        if response.status_code == 200 and "access_token" in body:
            return str(body["access_token"])
        code = str(body.get("error") or body.get("status") or "").strip()
        reason = str(body.get("error_description") or body.get("message") or "").strip()
        summary = f"HubSpot token refresh failed ({response.status_code} {code}: {reason})"
        if response.status_code in (400, 401):
            # invalid_grant / invalid_client / unauthorized_client: retrying cannot help.
            refused = CrmConfigError(
                f"{summary}; reconnect the portal (new REFRESH_TOKEN) or check CLIENT_ID and "
                "CLIENT_SECRET",
                connection=self.name,
            )
            refused.http_status = response.status_code
            raise refused
        raise map_status(response.status_code, body, summary, response.headers, self.name)

    def sdk(self) -> HubSpot:
        with self._lock:
            if self._sdk is None:
                options: dict[str, Any] = {"host": self.base_url, "base_url": self.base_url}
                if self.settings.ca_bundle:
                    options["ssl_ca_cert"] = str(self.settings.ca_bundle)
                self._sdk = HubSpot(access_token=self._token(), retry=False, **options)
            return self._sdk

    def _attempt(self, fn: Callable[[HubSpot, tuple[float, float]], T]) -> T:
        self.quota.check()
        refreshable = bool(self.settings.refresh_token)
        for second_try in (False, True):
            sdk = self.sdk()
            try:
                self.calls += 1
                return fn(sdk, self.timeout)
            except CrmError:
                raise
            except Exception as error:
                mapped = map_error(error, self.name, self.base_url)
                expired = getattr(error, "status", None) == 401
                if expired and refreshable and not second_try:
                    with self._lock:
                        self._sdk = None  # the OAuth token expired: refresh it, once
                    continue
                raise mapped from None
        raise AssertionError("unreachable: the loop returns or raises")

    def call(
        self, fn: Callable[[HubSpot, tuple[float, float]], Any], *, search: bool = False
    ) -> Any:
        """Run one SDK `*_with_http_info` call (quota guard, pacing, token refresh, retries).

        `fn` returns the SDK's (data, status, headers) triple; the headers feed the quota guard
        and the pacer (the plain SDK methods hide them) and the data is returned. `search=True`
        for CRM search calls, which HubSpot limits apart and answers without rate headers.
        """

        def triple(result: Any) -> tuple[Any, Any]:
            data, _status, headers = result
            return data, headers

        return self._run(fn, search, triple)

    def call_json(
        self, fn: Callable[[HubSpot, tuple[float, float]], Any], *, search: bool = False
    ) -> dict[str, Any]:
        """`call` for an SDK call made with `_preload_content=False`: the answer's JSON as
        HubSpot sent it (camelCase keys, strings for times), parsed by orjson.

        The SDK still builds, authenticates and sends the request and raises its
        `ApiException` for a non-2xx answer (errors.py maps it as before); only its model
        layer is skipped: deserialising a page of 200 records into models and back with
        `to_dict()` cost more than the call itself (16 % of a HubSpot sync's profile).
        """

        def raw(response: Any) -> tuple[dict[str, Any], Any]:
            # Read inside the attempt, so a connection dropped mid-body is retried too.
            try:
                return orjson.loads(response.data), response.headers
            finally:
                response.release_conn()

        result: dict[str, Any] = self._run(fn, search, raw)
        return result

    def _run(
        self,
        fn: Callable[[HubSpot, tuple[float, float]], Any],
        search: bool,
        read: Callable[[Any], tuple[Any, Any]],
    ) -> Any:
        """`fn` paced, guarded and retried; `read` turns its result into (data, headers)."""
        bucket = SEARCH if search else BURST

        def once(sdk: HubSpot, timeout: tuple[float, float]) -> Any:
            counted = self.pacer.acquire(bucket)
            data, headers = read(fn(sdk, timeout))
            if headers is not None and not search:
                stated = dict(headers)
                self.quota.observe(hubspot_usage(stated))
                window = self._share(hubspot_window(stated))
                self.pacer.learn(BURST, window, count_call=not counted)
            return data

        return call_with_retry(lambda: self._attempt(once), self.policy, crm="HubSpot")

    def _share(self, window: Window | None) -> Window | None:
        # Leave the rest of the portal's window to its other integrations.
        if window is None:
            return None
        return Window(max(1, int(window.requests * self.settings.rate_share)), window.seconds)
