"""The only module that talks to hubspot-api-client: auth, timeouts, retries, quota.

The SDK builds a new urllib3 pool on every API-property access (docs/crm-api-facts.md §1.3), so the
API objects are built once and kept. Its own retries are switched off (`retry=False`): the one retry
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

from adapters.errors import TRANSPORT_ERRORS, error_body, transport_error
from adapters.hubspot.errors import map_answer
from adapters.hubspot.quota import hubspot_usage, hubspot_window
from adapters.hubspot.settings import HubSpotSettings
from adapters.pacing import BURST, SEARCH, Pacer, Window
from adapters.quota import QuotaGuard
from adapters.retry import RetryPolicy, call_with_retry
from service.ports import CrmConfigError

T = TypeVar("T")
TOKEN_PATH = "/oauth/2026-03/token"  # noqa: S105  (a path, not a secret)


def api_exception(error: BaseException) -> BaseException | None:
    """The SDK's `ApiException` that `error` is, or was raised while handling; else None.

    Vendor quirks: hubspot-api-client generates one `ApiException` class per API module
    (`hubspot.crm.objects.exceptions`, `hubspot.crm.owners.exceptions`, ... about 60) with no
    common base, so it is recognised by its class's name and package. And when urllib3 fails TLS
    the SDK raises `ApiException(status=0)` without a body, on which its own handler then
    fails (`e.body.decode` -> AttributeError), so that AttributeError carries it as context.
    Its siblings `ApiTypeError` / `ApiValueError` are raised before sending, on arguments we
    built wrongly: bugs, not answers, so they are not matched.
    """
    for item in (error, error.__context__):
        if item is not None and any(
            cls.__name__ == "ApiException" and cls.__module__.startswith("hubspot.")
            for cls in type(item).__mro__
        ):
            return item
    return None


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
        except TRANSPORT_ERRORS as error:  # OSError: no CA bundle file
            raise transport_error(error, "HubSpot", self.base_url, self.name) from error
        body = error_body(response.content)
        if response.status_code == 200 and "access_token" in body:
            return str(body["access_token"])
        # invalid_grant / invalid_client are config errors (the table says why), never retried.
        raise map_answer(
            response.status_code, body, response.headers, self.name, prefix="token refresh failed"
        )

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
            except TRANSPORT_ERRORS as error:
                raise transport_error(error, "HubSpot", self.base_url, self.name) from error
            except Exception as error:
                api = api_exception(error)
                status = getattr(api, "status", None)
                if api is None or (
                    not status and not isinstance(api.__context__, TRANSPORT_ERRORS)
                ):
                    raise  # neither HubSpot's answer nor the network: a bug, not an outage
                if not status:  # status 0: no answer came (TLS), see api_exception
                    raise transport_error(error, "HubSpot", self.base_url, self.name) from error
                if status == 401 and refreshable and not second_try:
                    with self._lock:
                        self._sdk = None  # the OAuth token expired: refresh it, once
                    continue
                headers = getattr(api, "headers", None)
                raise map_answer(
                    int(status),
                    getattr(api, "body", None),
                    dict(headers) if headers is not None else None,
                    self.name,
                ) from error
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

    # --- the calls the reader and writer make: HubSpot's JSON in, plain dicts out ----------
    # Request bodies are given in HubSpot's wire shape (camelCase keys); the SDK sends a dict
    # body as it is, so no SDK model is needed outside this module.

    def search(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        """One page of CRM search (`filterGroups`, `sorts`, `properties`, `limit`, `after`)."""
        return self.call_json(
            lambda sdk, timeout: sdk.crm.objects.search_api.do_search_with_http_info(
                object_type,
                public_object_search_request=body,
                _request_timeout=timeout,
                _preload_content=False,
            ),
            search=True,
        )

    def batch_read(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        """`batch/read` by id or by `idProperty` (≤ 100 inputs)."""
        return self.call_json(
            lambda sdk, timeout: sdk.crm.objects.batch_api.read_with_http_info(
                object_type,
                batch_read_input_simple_public_object_id=body,
                _request_timeout=timeout,
                _preload_content=False,
            )
        )

    def associations(self, from_type: str, to_type: str, ids: list[str]) -> dict[str, Any]:
        """The v4 associations of up to 1,000 records of `from_type` to `to_type`."""
        body = {"inputs": [{"id": i} for i in ids]}
        return self.call_json(
            lambda sdk, timeout: sdk.crm.associations.v4.batch_api.get_page_with_http_info(
                from_type,
                to_type,
                batch_input_public_fetch_associations_batch_request=body,
                _request_timeout=timeout,
                _preload_content=False,
            )
        )

    def archived_page(self, object_type: str, after: str | None) -> dict[str, Any]:
        """A page (100) of archived records, each with `archivedAt`."""
        return self.call_json(
            lambda sdk, timeout: sdk.crm.objects.basic_api.get_page_with_http_info(
                object_type,
                limit=100,
                after=after,
                archived=True,
                _request_timeout=timeout,
                _preload_content=False,
            )
        )

    def owners_page(self, after: str | None) -> dict[str, Any]:
        """A page (500) of owners through the SDK's model: snake_case keys (`first_name`)."""
        page: dict[str, Any] = self.call(
            lambda sdk, timeout: sdk.crm.owners.owners_api.get_page_with_http_info(
                limit=500, after=after, _request_timeout=timeout
            )
        ).to_dict()
        return page

    def batch_update(self, object_type: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        """`batch/update` by id (≤ 100 inputs); a 207's `errors` list the refused ids."""
        page: dict[str, Any] = self.call(
            lambda sdk, timeout: sdk.crm.objects.batch_api.update_with_http_info(
                object_type,
                batch_input_simple_public_object_batch_input={"inputs": inputs},
                _request_timeout=timeout,
            )
        ).to_dict()
        return page

    def batch_upsert(self, object_type: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        """`batch/upsert` by each input's `idProperty` (≤ 100 inputs)."""
        page: dict[str, Any] = self.call(
            lambda sdk, timeout: sdk.crm.objects.batch_api.upsert_with_http_info(
                object_type,
                batch_input_simple_public_object_batch_input_upsert={"inputs": inputs},
                _request_timeout=timeout,
            )
        ).to_dict()
        return page

    def associate_default(self, from_type: str, to_type: str, links: list[dict[str, Any]]) -> None:
        """Default (unlabelled) v4 associations, `{"from": {"id"}, "to": {"id"}}` each."""
        self.call(
            lambda sdk, timeout: sdk.crm.associations.v4.batch_api.create_default_with_http_info(
                from_type,
                to_type,
                batch_input_public_default_association_multi_post={"inputs": links},
                _request_timeout=timeout,
            )
        )

    def property_groups(self, object_type: str) -> list[dict[str, Any]]:
        """The object type's property groups."""
        page: dict[str, Any] = self.call(
            lambda sdk, timeout: sdk.crm.properties.groups_api.get_all_with_http_info(
                object_type, _request_timeout=timeout
            )
        ).to_dict()
        return list(page.get("results") or [])

    def properties(self, object_type: str) -> list[dict[str, Any]]:
        """The object type's properties."""
        page: dict[str, Any] = self.call(
            lambda sdk, timeout: sdk.crm.properties.core_api.get_all_with_http_info(
                object_type, _request_timeout=timeout
            )
        ).to_dict()
        return list(page.get("results") or [])

    def create_property_group(self, object_type: str, group: dict[str, Any]) -> None:
        """Create a property group (`name`, `label`, `displayOrder`)."""
        self.call(
            lambda sdk, timeout: sdk.crm.properties.groups_api.create_with_http_info(
                object_type, property_group_create=group, _request_timeout=timeout
            )
        )

    def create_property(self, object_type: str, prop: dict[str, Any]) -> None:
        """Create a property (`name`, `label`, `type`, `fieldType`, `groupName`, ...)."""
        self.call(
            lambda sdk, timeout: sdk.crm.properties.core_api.create_with_http_info(
                object_type, property_create=prop, _request_timeout=timeout
            )
        )
