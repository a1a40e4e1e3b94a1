"""A thin HTTP client for Zalo's OpenAPI: auth, the envelope, errors, retries.

No vendor SDK: the Python ones on PyPI are stale (`zalo-python-sdk` 1.17 from 2017,
`zalo-official-sdk` 1.0.1 from 2021) and predate OAuth v4 and the v3 endpoints (docs/zalo.md
"Why no SDK"). The conventions this module follows (docs/zalo.md "OpenAPI"):

* every call carries the OA access token in a header named `access_token`, not Authorization;
* GET parameters travel as one JSON-encoded query parameter, `?data={"user_id": "…"}`;
* answers are an envelope `{"data", "error", "message"}` and errors come as HTTP 200 with a
  non-zero `error`; `-216` (invalid or expired token) refreshes the token once and retries;
* tokens come from OAuth v4 (`POST …/v4/oa/access_token`, form-encoded, the app secret in a
  `secret_key` header, `expires_in` a string of seconds) and rotate: tokens.py keeps them.

The retry layer is adapters/retry.py (this module never loops on its own, except the one
retry after a token refresh). Only httpx's transport errors and Zalo's own answers
(`ZaloApiError`) are caught; anything else is a bug and propagates unchanged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from adapters.errors import transport_error
from adapters.pacing import BURST, Pacer
from adapters.retry import RetryPolicy, call_with_retry
from adapters.zalo.errors import INVALID_TOKEN, OAUTH, OK, map_answer
from adapters.zalo.quota import zalo_window
from adapters.zalo.settings import ZaloSettings
from adapters.zalo.tokens import TokenKeeper, TokenStore
from service.ports import CrmConfigError

T = TypeVar("T")
CRM = "Zalo"
# What may fail before Zalo answers: httpx's transport (timeouts, resets, TLS) and the OS (a
# missing CA bundle file).
TRANSPORT = (httpx.TransportError, OSError)


class ZaloApiError(Exception):
    """Zalo's own refusal: the HTTP status, the envelope's `error` code (a string; None when
    the body has none) and its `message`. Never holds a token."""

    def __init__(self, status: int, code: str | None, message: str) -> None:
        super().__init__(f"HTTP {status} error {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class ZaloUnauthorized(ZaloApiError):  # noqa: N818  (named as the SDKs name theirs)
    """`-216`: the access token is invalid or expired."""


def api_error(status: int, code: str | None, message: str) -> ZaloApiError:
    """The exception for an answer (`ZaloUnauthorized` for an invalid token)."""
    kind = ZaloUnauthorized if code == INVALID_TOKEN else ZaloApiError
    return kind(status, code, message)


def envelope(response: httpx.Response) -> Any:
    """The `data` of a Zalo answer, or `ZaloApiError` for a refusal (HTTP 200 + `error`)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ZaloApiError(response.status_code, None, "the answer is not Zalo's JSON envelope")
    code = body.get("error", 0)
    if response.status_code != OK or code not in (0, "0"):
        raise api_error(
            response.status_code, str(code) if code else None, str(body.get("message", ""))
        )
    return body.get("data")


class ZaloHttp:
    """One attempt's view of the API: the access token and the base URL applied, every call
    paced by the app's per-minute window once an answer stated it."""

    def __init__(
        self, http: httpx.Client, base_url: str, token: str, pacer: Pacer, share: float
    ) -> None:
        self._http = http
        self._base = base_url
        self._token = token
        self._pacer = pacer
        self._share = share

    def _send(self, method: str, path: str, **options: Any) -> Any:
        counted = self._pacer.acquire(BURST)
        answer = self._http.request(
            method, f"{self._base}{path}", headers={"access_token": self._token}, **options
        )
        window = zalo_window(answer.headers, self._share)
        if window is not None:
            self._pacer.learn(BURST, window, count_call=not counted)
        return envelope(answer)

    def __repr__(self) -> str:
        return f"ZaloHttp(base_url={self._base!r})"

    def get(self, path: str, data: dict[str, Any] | None = None) -> Any:
        """GET `path` with its parameters as the one JSON `data` query parameter."""
        params = {"data": json.dumps(data, separators=(",", ":"))} if data is not None else None
        return self._send("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST a JSON body to `path`."""
        return self._send("POST", path, json=body)


class ZaloClient:
    """One Official Account: `call(fn)` runs `fn(http)` with a valid token, error mapping and
    retries; the reader's calls are the methods at the end."""

    def __init__(
        self,
        name: str,
        settings: ZaloSettings,
        policy: RetryPolicy | None = None,
        *,
        pacing_url: str | None = None,
    ) -> None:
        if settings.base_url is None:
            raise CrmConfigError(f"connection {name}: base_url is required", connection=name)
        if settings.refresh_token is None and settings.access_token is None:
            raise CrmConfigError(
                f"connection {name}: set REFRESH_TOKEN (with CLIENT_ID, CLIENT_SECRET and "
                "TOKEN_STORE), or ACCESS_TOKEN",
                connection=name,
            )
        if settings.refresh_token is not None and (
            settings.token_store is None or not settings.client_id or not settings.client_secret
        ):
            raise CrmConfigError(
                f"connection {name}: REFRESH_TOKEN needs CLIENT_ID (the app id), CLIENT_SECRET "
                "(the app secret) and TOKEN_STORE (Zalo refresh tokens are single-use)",
                connection=name,
            )
        self.name = name
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self.base_url = str(settings.base_url).rstrip("/")
        self.calls = 0
        # The app's per-minute window, learnt from the first answer and shared by the workers
        # through `pacing_url` (adapters/pacing.py).
        self.pacer = Pacer(CRM, name, storage_url=pacing_url)
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()
        access = settings.access_token.get_secret_value() if settings.access_token else None
        self.keeper: TokenKeeper | None = None
        self._static = access
        if settings.refresh_token is not None and settings.token_store is not None:
            self.keeper = TokenKeeper(
                TokenStore(settings.token_store),
                settings.refresh_token.get_secret_value(),
                self._exchange,
                access_token=access,
            )

    def __repr__(self) -> str:
        return f"ZaloClient(name={self.name!r}, base_url={self.base_url!r})"

    def _client(self) -> httpx.Client:
        # Built on first use, inside a call: a missing CA bundle is then a mapped error.
        with self._lock:
            if self._http is None:
                s = self.settings
                self._http = httpx.Client(
                    timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
                    verify=str(s.ca_bundle) if s.ca_bundle else True,
                    trust_env=False,
                )
            return self._http

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    def _exchange(self, refresh_token: str) -> tuple[str, str, float]:
        """OAuth v4 refresh: (access token, the rotated refresh token, lifetime in seconds)."""
        s = self.settings
        form = {
            "app_id": s.client_id or "",
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
        secret = s.client_secret.get_secret_value() if s.client_secret else ""
        self.calls += 1
        answer = self._client().post(str(s.oauth_url), data=form, headers={"secret_key": secret})
        try:
            body = answer.json()
        except ValueError:
            body = None
        if answer.status_code == OK and isinstance(body, dict) and body.get("access_token"):
            # `expires_in` is a string of seconds ("90000"); an unreadable one is taken as an
            # hour (a -216 before then refreshes anyway).
            try:
                lifetime = float(str(body.get("expires_in")))
            except ValueError:
                lifetime = 3600.0
            return str(body["access_token"]), str(body["refresh_token"]), lifetime
        detail = body if isinstance(body, dict) else {}
        message = str(detail.get("error_description") or detail.get("error_name") or "")
        raise ZaloApiError(answer.status_code, OAUTH, f"token refresh refused: {message}")

    def _token(self) -> str:
        if self.keeper is not None:
            return self.keeper.current()
        assert self._static is not None
        return self._static

    def _attempt(self, fn: Callable[[ZaloHttp], T]) -> T:
        token: str | None = None
        for second_try in (False, True):
            try:
                http = self._client()
                token = self._token() if token is None else token
                self.calls += 1
                return fn(
                    ZaloHttp(http, self.base_url, token, self.pacer, self.settings.rate_share)
                )
            except TRANSPORT as error:
                raise transport_error(error, CRM, self.base_url, self.name) from error
            except ZaloApiError as error:
                if (
                    isinstance(error, ZaloUnauthorized)
                    and self.keeper is not None
                    and not second_try
                ):
                    try:
                        token = self.keeper.renew(stale=token)
                    except TRANSPORT as failed:
                        raise transport_error(failed, CRM, self.base_url, self.name) from failed
                    except ZaloApiError as refused:
                        raise self._mapped(refused) from refused
                    continue
                raise self._mapped(error) from error
        raise AssertionError("unreachable: the loop returns or raises")

    def _mapped(self, error: ZaloApiError) -> Exception:
        prefix = "token refresh" if error.code == OAUTH else ""
        return map_answer(error.status, error.code, error.message, None, self.name, prefix=prefix)

    def call(self, fn: Callable[[ZaloHttp], T]) -> T:
        """`fn(http)` with a valid token, retried by adapters/retry.py when it may pass."""
        return call_with_retry(lambda: self._attempt(fn), self.policy, crm=CRM)

    # --- the calls the reader makes (docs/zalo.md "OpenAPI") -------------------------------

    def followers(self, offset: int, count: int, **filters: str) -> dict[str, Any]:
        """A page of user ids (v3 `user/getlist`, count ≤ 50): `total`, `users[{user_id}]`."""
        data = {"offset": offset, "count": count, **filters}
        page: dict[str, Any] = self.call(lambda h: h.get("/v3.0/oa/user/getlist", data)) or {}
        return page

    def user(self, user_id: str) -> dict[str, Any]:
        """One user's profile (v3 `user/detail`)."""
        found: dict[str, Any] = (
            self.call(lambda h: h.get("/v3.0/oa/user/detail", {"user_id": user_id})) or {}
        )
        return found

    def recent_chats(self, offset: int, count: int) -> list[dict[str, Any]]:
        """The latest message of each conversation, newest first (`listrecentchat`, ≤ 10)."""
        data = {"offset": offset, "count": count}
        found = self.call(lambda h: h.get("/v2.0/oa/listrecentchat", data))
        return list(found or [])

    def conversation(self, user_id: str, offset: int, count: int) -> list[dict[str, Any]]:
        """One user's messages, newest first (`conversation`, ≤ 10)."""
        data = {"user_id": user_id, "offset": offset, "count": count}
        found = self.call(lambda h: h.get("/v2.0/oa/conversation", data))
        return list(found or [])
