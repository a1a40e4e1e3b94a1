"""Sends due deliveries: signed POSTs, retried with exponential back-off, until 2xx or given up.

Outcomes: 2xx → delivered; 410 Gone → the subscription is disabled (the receiver said so);
anything else (other status, redirect, timeout, refused connection) → retried after
min(base·2^(n-1), max) ±20 % jitter, until `max_attempts`, then failed. Redirects are not followed:
a receiver that moved must be re-registered, so events never go somewhere nobody registered.
Every attempt first checks the URL again (`egress.EgressPolicy`: https, public addresses only)
and connects to the address it checked. Response bodies are neither stored nor logged, and a
failure is recorded as a category (`ERRORS`), never as the exception's text: "Connection
refused" against "timed out" is exactly what would let a key holder map internal ports.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx

from service import __version__
from service.metrics import WEBHOOK_DELIVERIES
from service.store.tables import WebhookDelivery, WebhookDeliveryState, utcnow
from service.webhooks.egress import EgressBlockedError, EgressPolicy, pin
from service.webhooks.settings import WebhookSettings
from service.webhooks.signing import signed_headers
from service.webhooks.store import WebhookStore
from service.webhooks.vault import SecretVault, VaultError

log = logging.getLogger(__name__)
USER_AGENT = f"cem-bridge-webhooks/{__version__}"

# What `last_error` may hold (the deliveries API shows it; docs/webhooks.md explains each).
ERRORS = (
    "blocked",  # the URL is not https or its host is not public (egress.py); never connected
    "dns",  # the host name did not resolve
    "refused",  # nothing listens at the address
    "timeout",  # connecting, sending or waiting for the answer took too long
    "tls",  # the TLS handshake or the certificate failed
    "connect",  # another connection failure (unreachable network, reset)
    "protocol",  # the receiver did not speak HTTP properly
    "redirect",  # a 3xx answer (not followed)
    "http_4xx",
    "http_5xx",
    "gone",  # 410 Gone: the subscription was disabled
    "secret_unavailable",  # the signing secret could not be decrypted (an operator's key issue)
    "subscription_removed",
    "erased",  # the customer was erased before the event was delivered
)


def error_category(error: httpx.HTTPError) -> str:
    """The category of a failed send (its message is not kept: see the module docstring)."""
    if isinstance(error, httpx.TimeoutException):
        return "timeout"
    if isinstance(error, httpx.ConnectError):
        text = f"{error} {error.__cause__ or ''} {error.__context__ or ''}".lower()
        if "refused" in text:
            return "refused"
        if "ssl" in text or "certificate" in text or "tls" in text:
            return "tls"
        if "name or service" in text or "getaddrinfo" in text or "resolution" in text:
            return "dns"
        return "connect"
    if isinstance(error, httpx.ProtocolError):
        return "protocol"
    return "connect"


def status_category(status: int) -> str:
    if 300 <= status < 400:
        return "redirect"
    return "http_4xx" if status < 500 else "http_5xx"


def backoff(attempt: int, settings: WebhookSettings, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    base = min(settings.backoff_base_seconds * 2.0 ** (attempt - 1), settings.backoff_max_seconds)
    jitter: float = (rng or random.Random()).uniform(0.8, 1.2)  # noqa: S311  (not crypto)
    return base * jitter


class WebhookDispatcher:
    """Delivers what the outbox holds; `deliver_due()` is one round, `start()` loops in a thread."""

    def __init__(
        self,
        repository: WebhookStore,
        vault: SecretVault,
        settings: WebhookSettings,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = utcnow,
        egress: EgressPolicy | None = None,
    ) -> None:
        self._repo = repository
        self._vault = vault
        self._settings = settings
        self._egress = egress or settings.egress_policy()
        self._client = client or httpx.Client(
            timeout=settings.timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            # No kept-alive connections: each one is opened to an address checked just before,
            # with that host's TLS server name (a pooled one could carry another host's).
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="cem-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._settings.timeout_seconds + self._settings.poll_seconds)
        self._client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                while self.deliver_due() and not self._stop.is_set():
                    pass
            except Exception:  # the database may blink; try again next round
                log.exception("webhook delivery round failed")
            self._stop.wait(self._settings.poll_seconds)

    def deliver_due(self) -> int:
        """Send every due delivery once (up to the batch size); returns how many were tried."""
        now = self._clock()
        lease = timedelta(seconds=self._settings.timeout_seconds + 30)
        claimed = self._repo.claim_due(now, lease, self._settings.batch_size)
        for delivery in claimed:
            self._send(delivery)
        return len(claimed)

    def _send(self, delivery: WebhookDelivery) -> None:
        subscription = self._repo.subscription(delivery.subscription_id)
        now = self._clock()
        if subscription is None or not subscription.active:
            self._finish(delivery, WebhookDeliveryState.FAILED, None, "subscription_removed")
            return
        try:
            secret = self._vault.decrypt(subscription.secret_ciphertext)
        except (VaultError, RuntimeError) as error:
            # A key problem is the operator's to fix: keep retrying rather than drop the event.
            log.warning("webhook secret of subscription %s unavailable: %s",
                        subscription.id, type(error).__name__)  # fmt: skip
            self._retry(delivery, None, "secret_unavailable")
            return
        try:
            destination = self._egress.check(subscription.url)
        except EgressBlockedError as blocked:
            self._retry(delivery, None, blocked.category)
            return
        body = delivery.body.encode()
        headers = signed_headers(secret, delivery.event_id, int(now.timestamp()), body)
        headers["Content-Type"] = "application/json"
        request = self._client.build_request("POST", subscription.url, content=body,
                                             headers=headers)  # fmt: skip
        try:
            answer = self._client.send(pin(request, destination))
            answer.close()
        except httpx.HTTPError as error:
            self._retry(delivery, None, error_category(error))
            return
        status = answer.status_code
        if 200 <= status < 300:
            self._finish(delivery, WebhookDeliveryState.DELIVERED, status, None)
        elif status == 410:
            reason = "the receiver answered 410 Gone"
            self._finish(delivery, WebhookDeliveryState.FAILED, status, "gone", "disabled")
            self._repo.disable(subscription.id, now, reason)
            log.warning("webhook subscription %s disabled: %s", subscription.id, reason)
        else:
            self._retry(delivery, status, status_category(status))

    def _retry(self, delivery: WebhookDelivery, status: int | None, error: str) -> None:
        if delivery.attempts >= self._settings.max_attempts:
            log.warning("webhook delivery %s given up after %d attempts: %s",
                        delivery.id, delivery.attempts, error)  # fmt: skip
            self._finish(delivery, WebhookDeliveryState.FAILED, status, error)
            return
        WEBHOOK_DELIVERIES.labels("retry").inc()
        wait = timedelta(seconds=backoff(delivery.attempts, self._settings))
        now = self._clock()
        self._repo.record(delivery.id, state=WebhookDeliveryState.PENDING, status=status,
                          error=error, next_attempt_at=now + wait, now=now)  # fmt: skip

    def _finish(
        self, delivery: WebhookDelivery, state: WebhookDeliveryState, status: int | None,
        error: str | None, outcome: str | None = None,
    ) -> None:  # fmt: skip
        WEBHOOK_DELIVERIES.labels(outcome or state.value).inc()
        self._repo.record(delivery.id, state=state, status=status, error=error,
                          next_attempt_at=None, now=self._clock())  # fmt: skip
