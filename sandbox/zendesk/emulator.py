"""One emulated Zendesk account: its records, limits, webhook sender and sandbox controls."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.core.state import SandboxState
from sandbox.data.generate import truths
from sandbox.data.model import Record
from sandbox.zendesk.config import ZendeskConfig
from sandbox.zendesk.loader import Loader, LoadReport, user_id
from sandbox.zendesk.ratelimit import Limiter
from sandbox.zendesk.store import ZendeskStore
from sandbox.zendesk.webhooks import WebhookSender

ACCOUNT_ID = 9_100_001


class ZendeskEmulator:
    def __init__(self, config: ZendeskConfig | None = None) -> None:
        self.config = config or ZendeskConfig()
        self.sandbox = SandboxState(crm="zendesk")
        if self.config.faults is not None:
            self.sandbox.faults.set_profile(self.config.faults)
        self.store = ZendeskStore(self.sandbox.clock)
        self.limiter = Limiter(self.config.rate_limits, self.sandbox.clock)
        self.webhooks = WebhookSender(self.config.webhooks, self.store, ACCOUNT_ID)
        self.exports = self.config.exports
        self._truth: tuple[int, int] | None = None
        self.sandbox.on_reset(self.limiter.reset)
        self.sandbox.on_reset(self.webhooks.clear)
        self.sandbox.on_clear_data(self.store.clear)

    def load(
        self, records: Iterable[Record], *, seed: int | None = None, customers: int | None = None
    ) -> LoadReport:
        """Load generated records; `seed` and `customers` (the generator's arguments) make the
        ground truth available at `/__sandbox/zendesk/truth`."""
        if seed is not None and customers is not None:
            self._truth = (seed, customers)
        return Loader(self.store).load(records)

    def truth(self) -> list[dict[str, Any]]:
        """The generator's hidden truth per person, keyed by their Zendesk user id."""
        if self._truth is None:
            return []
        seed, customers = self._truth
        return [
            {
                "user_id": user_id(t.person_id),
                "person_id": t.person_id,
                "experience": t.experience,
                "churned": t.churned,
                "churned_at": t.churned_at.isoformat() if t.churned_at else None,
                "main_aspects": list(t.main_aspects),
            }
            for t in truths(seed, customers)
        ]

    def base_credentials(self, base_url: str) -> dict[str, Any]:
        return {
            "base_url": base_url,
            "email": self.config.admin_email,
            "api_token": self.config.api_token,
            "oauth_token": self.config.oauth_token,
            "webhook_signing_secret": self.config.webhooks.signing_secret.get_secret_value(),
        }

    def close(self) -> None:
        self.webhooks.stop()
