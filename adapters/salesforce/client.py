"""The only module that talks to simple-salesforce: session, auth, timeouts, retries, quota.

simple-salesforce has no timeouts, no retries and rebuilds every URL as https (docs/crm-api-facts.md
§1.1), so we give it a `requests.Session` whose adapter sets connect/read timeouts, does no
retries of its own (one retry layer: adapters/retry.py), and trusts the configured CA bundle
(the sandbox's self-signed certificate) without letting REQUESTS_CA_BUNDLE override it.

Authentication: a static access token, or the OAuth token endpoint of the org's own host
(`<base_url>/services/oauth2/token`, as My Domain hosts serve it) with client credentials, a
refresh token or username-password. A 401 INVALID_SESSION_ID triggers one new login.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

from adapters.errors import TRANSPORT_ERRORS, transport_error
from adapters.quota import QuotaGuard, Usage
from adapters.retry import RetryPolicy, call_with_retry
from adapters.salesforce.errors import map_answer
from adapters.salesforce.settings import SalesforceSettings
from service.ports import CrmConfigError

API_VERSION = "59.0"
T = TypeVar("T")


def restful(sf: Salesforce, *, path: str, method: str = "GET", body: Any = None) -> Any:
    """A REST call relative to /services/data/vXX.X/ (used with `SalesforceClient.call`)."""
    return sf.restful(path, method=method, json=body)


def run_query(sf: Salesforce, *, query: str, include_deleted: bool = False) -> dict[str, Any]:
    """The first page of a SOQL query (used with `SalesforceClient.call`)."""
    result: dict[str, Any] = sf.query(query, include_deleted=include_deleted)
    return result


def next_page(sf: Salesforce, *, url: str, include_deleted: bool = False) -> dict[str, Any]:
    """The page at a `nextRecordsUrl` (a path on the instance; the SDK adds https://host)."""
    result: dict[str, Any] = sf.query_more(
        url, identifier_is_url=True, include_deleted=include_deleted
    )
    return result


class _TimeoutAdapter(HTTPAdapter):
    """Applies default (connect, read) timeouts; never retries on its own."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__(max_retries=0)
        self._timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def make_session(settings: SalesforceSettings) -> requests.Session:
    session = requests.Session()
    # REQUESTS_CA_BUNDLE would otherwise override `verify` (docs/crm-api-facts.md §1.2 D).
    session.trust_env = False
    session.verify = str(settings.ca_bundle) if settings.ca_bundle else True
    adapter = _TimeoutAdapter((settings.connect_timeout, settings.read_timeout))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@dataclass(frozen=True)
class _Login:
    instance_url: str
    access_token: str

    def __repr__(self) -> str:
        return f"_Login(instance_url={self.instance_url!r}, access_token='***')"


class SalesforceClient:
    """A Salesforce connection: `call(fn)` runs `fn(sdk)` with auth, retries and the quota guard."""

    def __init__(
        self, name: str, settings: SalesforceSettings, policy: RetryPolicy | None = None
    ) -> None:
        if settings.base_url is None:
            raise CrmConfigError(f"connection {name}: base_url is required", connection=name)
        self.name = name
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self.quota = QuotaGuard(name, settings.quota_share, crm="salesforce")
        self.session = make_session(settings)
        self.calls = 0
        self._sdk: Salesforce | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SalesforceClient(name={self.name!r}, base_url={str(self.settings.base_url)!r})"

    @property
    def base_url(self) -> str:
        return str(self.settings.base_url).rstrip("/")

    def _token_request(self) -> dict[str, str]:
        s = self.settings
        if s.refresh_token and s.client_id:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": s.refresh_token.get_secret_value(),
            }
        elif s.username and s.password and s.client_id:
            form = {
                "grant_type": "password",
                "username": s.username,
                "password": s.password.get_secret_value(),
            }
        elif s.client_id and s.client_secret:
            form = {"grant_type": "client_credentials"}
        else:
            raise CrmConfigError(
                f"connection {self.name}: set ACCESS_TOKEN, or CLIENT_ID with CLIENT_SECRET "
                "(and REFRESH_TOKEN or USERNAME/PASSWORD)",
                connection=self.name,
            )
        form["client_id"] = s.client_id or ""
        if s.client_secret:
            form["client_secret"] = s.client_secret.get_secret_value()
        return form

    def _login(self) -> _Login:
        if self.settings.access_token and not self.settings.client_id:
            return _Login(self.base_url, self.settings.access_token.get_secret_value())
        self.calls += 1
        try:
            response = self.session.post(
                f"{self.base_url}/services/oauth2/token", data=self._token_request()
            )
        except TRANSPORT_ERRORS as error:  # OSError: no CA bundle file
            raise transport_error(error, "Salesforce", self.base_url, self.name) from error
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        if response.status_code == 200 and "access_token" in body:
            return _Login(str(body.get("instance_url") or self.base_url), str(body["access_token"]))
        # invalid_grant / invalid_client are config errors (the table says why), never retried.
        raise map_answer(response.status_code, body, self.name, prefix="login failed")

    def _connect(self) -> Salesforce:
        with self._lock:
            if self._sdk is None:
                login = self._login()
                self._sdk = Salesforce(
                    instance_url=login.instance_url,
                    session_id=login.access_token,
                    session=self.session,
                    version=API_VERSION,
                    object_pairs_hook=dict,
                )
            return self._sdk

    def _observe(self, sdk: Salesforce) -> None:
        usage = (getattr(sdk, "api_usage", None) or {}).get("api-usage")
        if usage is not None:
            self.quota.observe(Usage(int(usage.used), int(usage.total)))

    def _attempt(self, fn: Callable[[Salesforce], T]) -> T:
        self.quota.check()
        static_token = bool(self.settings.access_token and not self.settings.client_id)
        for second_try in (False, True):
            sdk = self._connect()
            try:
                self.calls += 1
                return fn(sdk)
            except SalesforceExpiredSession as error:
                if static_token or second_try:
                    raise map_answer(error.status, error.content, self.name) from error
                with self._lock:
                    self._sdk = None  # the session expired: log in again, once
            except SalesforceError as error:
                raise map_answer(error.status, error.content, self.name) from error
            except TRANSPORT_ERRORS as error:
                raise transport_error(error, "Salesforce", self.base_url, self.name) from error
            finally:
                self._observe(sdk)
        raise AssertionError("unreachable: the loop returns or raises")

    def call(self, fn: Callable[[Salesforce], T]) -> T:
        """Run one SDK call with the quota guard, re-login on expiry and the retry policy."""
        return call_with_retry(lambda: self._attempt(fn), self.policy, crm="Salesforce")
