"""One emulated HubSpot portal: every store and service, wired, plus load and reset.

:class:`HubSpotEmulator` is what the app factory serves and what tests and the CLI load data
into; it owns the shared sandbox state (clock, faults, request log) of this emulator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from sandbox.core.faults import FaultInjector
from sandbox.core.state import SandboxState
from sandbox.data.churnstatus import ACTIVE, CHURNED, ChurnStatus
from sandbox.data.model import Record
from sandbox.hubspot.associations import AssociationStore
from sandbox.hubspot.auth import TokenRegistry
from sandbox.hubspot.config import HubSpotConfig
from sandbox.hubspot.loader import Loader, LoadReport
from sandbox.hubspot.objects import ObjectService
from sandbox.hubspot.objecttypes import OBJECT_TYPES
from sandbox.hubspot.owners import OwnerDirectory
from sandbox.hubspot.properties import PropertyRegistry
from sandbox.hubspot.ratelimit import RateLimiter
from sandbox.hubspot.search import SearchCache
from sandbox.hubspot.store import ObjectStore
from sandbox.hubspot.webhooks import WebhookSender


class HubSpotEmulator:
    """The state of one portal; thread-safe through its parts' locks."""

    def __init__(self, config: HubSpotConfig | None = None) -> None:
        self.config = config or HubSpotConfig()
        cfg = self.config
        self.sandbox = SandboxState(crm="hubspot", faults=FaultInjector(cfg.faults))
        clock = self.sandbox.clock
        self.store = ObjectStore()
        self.properties = PropertyRegistry(clock.now())
        self.objects = ObjectService(self.store, self.properties, clock, cfg.search_lag_seconds)
        self.associations = AssociationStore(clock.now)
        self.owners = OwnerDirectory()
        self.tokens = TokenRegistry(cfg, clock)
        self.limiter = RateLimiter(cfg.rate_limits, clock, cfg.portal_id)
        self.webhooks = WebhookSender(cfg.webhooks, cfg.portal_id)
        self.search_cache = SearchCache()
        self.objects.listeners.append(self.webhooks.listen)
        self.associations.listeners.append(self.webhooks.listen_association)
        self.sandbox.on_reset(self.reset_data)

    def load(
        self,
        records: Iterable[Record],
        *,
        all_ids: bool = False,
        churn_status: Mapping[str, ChurnStatus] | None = None,
    ) -> LoadReport:
        """Stream generated records into the portal (see :mod:`sandbox.hubspot.loader`);
        ``all_ids`` maps every generator id, not only the referenced ones.

        ``churn_status`` (generated person id -> status, :mod:`sandbox.data.churnstatus`) turns
        on the optional churn status: contact properties ``churn_status`` and ``churn_date``
        are defined (once) and filled for the contacts loaded."""
        if churn_status is not None:
            self.add_churn_properties()
        loader = Loader(
            self.objects, self.associations, self.owners, all_ids=all_ids, churn=churn_status
        )
        return loader.load(records)

    def add_churn_properties(self) -> None:
        """Define the contact properties ``churn_status`` (active/churned) and ``churn_date``
        as a portal admin would (no-op when they exist)."""
        contacts = OBJECT_TYPES["contacts"]
        wanted: list[dict[str, Any]] = [
            {
                "name": "churn_status",
                "label": "Churn status",
                "type": "enumeration",
                "fieldType": "select",
                "groupName": "contactinformation",
                "options": [
                    {"label": ACTIVE, "value": ACTIVE.lower()},
                    {"label": CHURNED, "value": CHURNED.lower()},
                ],
            },
            {
                "name": "churn_date",
                "label": "Churn date",
                "type": "date",
                "fieldType": "date",
                "groupName": "contactinformation",
            },
        ]
        for body in wanted:
            if self.properties.get(contacts, str(body["name"])) is None:
                self.properties.create(contacts, body, self.sandbox.clock.now())

    def credentials(self, base_url: str) -> dict[str, Any]:
        """What a client needs, for ``cem sandbox serve`` to print (``--json`` included).

        Sandbox-only secrets, revealed on purpose: they protect nothing real.
        """
        cfg = self.config
        return {
            "base_url": base_url,
            "access_token": cfg.access_token.get_secret_value(),
            "portal_id": cfg.portal_id,
            "oauth": {
                "token_url": f"{base_url}/oauth/2026-03/token",
                "authorize_url": f"{base_url}/oauth/authorize",
                "client_id": cfg.oauth.client_id,
                "client_secret": cfg.oauth.client_secret.get_secret_value(),
            },
            "webhook_client_secret": cfg.webhooks.client_secret.get_secret_value(),
            "admin_url": f"{base_url}/__sandbox",
            "view_url": f"{base_url}/__sandbox/view",
        }

    def reset_data(self) -> None:
        """Empty the portal: records, associations, owners, custom properties, tokens, limits;
        search lag and rate limits back to the configured ones."""
        self.objects.search_lag = timedelta(seconds=self.config.search_lag_seconds)
        self.limiter.configure(self.config.rate_limits)
        self.store.clear()
        self.associations.clear()
        self.owners.clear()
        self.properties.reset()
        self.tokens.reset()
        self.limiter.reset()
        self.webhooks.clear()
        self.search_cache.clear()

    def close(self) -> None:
        """Stop background work (the webhook sender)."""
        self.webhooks.stop()
