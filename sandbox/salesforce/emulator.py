"""One emulated Salesforce org: schema, records, sessions, limits and sandbox controls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sandbox.core.faults import FaultInjector
from sandbox.core.state import SandboxState
from sandbox.data.churnstatus import ACTIVE, CHURNED, ChurnStatus
from sandbox.data.model import Record as DataRecord
from sandbox.salesforce.bulk import BulkJobs
from sandbox.salesforce.changeevents import ChangeEventSender
from sandbox.salesforce.config import SalesforceConfig
from sandbox.salesforce.ids import IdFactory, to_18
from sandbox.salesforce.limits import ApiLimits
from sandbox.salesforce.load import Loader, LoadReport
from sandbox.salesforce.objects import standard_schema
from sandbox.salesforce.query import QueryEngine
from sandbox.salesforce.responses import format_datetime
from sandbox.salesforce.sessions import SessionRegistry
from sandbox.salesforce.store import SalesforceStore
from sandbox.salesforce.tooling import ToolingApi

ORG_ID = to_18("00D5g00000CEMSB")


class SalesforceEmulator:
    """Everything one emulated org holds; the HTTP routes are thin layers over it."""

    def __init__(self, config: SalesforceConfig | None = None) -> None:
        self.config = config or SalesforceConfig()
        self.state = SandboxState(crm="salesforce", faults=FaultInjector(self.config.faults))
        self.org_id = ORG_ID
        ids = IdFactory()
        self.store = SalesforceStore(standard_schema(), self.state.clock, ids)
        self.queries = QueryEngine(self.store, self.config.page_size)
        self.sessions = SessionRegistry(
            self.state.clock, self.org_id, self.config.session_lifetime_seconds
        )
        self.limits = ApiLimits(self.state.clock, self.config.daily_api_limit)
        self.tooling = ToolingApi(self.store, self.state.clock, ids)
        self.bulk = BulkJobs(self.store, self.queries)
        self.change_events = ChangeEventSender(self.config.change_events)
        self.store.listeners.append(self.change_events.listen)
        self.integration_user_id = self._create_integration_user()
        self.loader = Loader(self.store, self.integration_user_id)
        self.state.on_reset(self._reset)
        self.state.on_clear_data(self._clear_data)

    def load(
        self,
        records: Iterable[DataRecord],
        *,
        churn_status: Mapping[str, ChurnStatus] | None = None,
    ) -> LoadReport:
        """Stream generated records into the org; the report accumulates over calls.

        `churn_status` (generated person id -> status, `sandbox.data.churnstatus`) turns on the
        optional churn status: the Contact custom fields `Churn_Status__c` and `Churn_Date__c`
        are created through the Tooling API (once) and filled for the contacts loaded."""
        if churn_status is not None:
            self.add_churn_fields()
            self.loader.churn = churn_status
        return self.loader.load(records)

    def add_churn_fields(self) -> None:
        """Create `Contact.Churn_Status__c` (Active/Churned) and `Contact.Churn_Date__c` as an
        admin would, through the Tooling API's CustomField (no-op when they exist)."""
        wanted = {
            "Churn_Status__c": {
                "label": "Churn Status",
                "type": "Picklist",
                "valueSet": {
                    "valueSetDefinition": {
                        "value": [{"fullName": v, "label": v} for v in (ACTIVE, CHURNED)]
                    }
                },
            },
            "Churn_Date__c": {"label": "Churn Date", "type": "Date"},
        }
        contact = self.store.schema.object("Contact")
        for name, metadata in wanted.items():
            if contact.find(name) is None:
                self.tooling.create_custom_field(
                    {"FullName": f"Contact.{name}", "Metadata": metadata}
                )

    def credentials(
        self, base_url: str, ca_path: Path | None, session_hours: float = 24.0
    ) -> dict[str, Any]:
        """What a client needs, for `cem sandbox serve` to print: a ready session (valid for
        `session_hours` of sandbox time) and the OAuth values for the login flows.

        Sandbox-only secrets, revealed on purpose: they protect nothing real.
        """
        session = self.sessions.issue(self.integration_user_id, session_hours * 3600)
        cfg = self.config
        return {
            "base_url": base_url,
            "instance_url": base_url,
            "session_id": session.token,
            "api_version": cfg.api_version,
            "ca_cert": str(ca_path) if ca_path else None,
            "oauth": {
                "token_url": f"{base_url}/services/oauth2/token",
                "client_id": cfg.client_id,
                "client_secret": cfg.client_secret.get_secret_value(),
                "username": cfg.username,
                "password": cfg.password.get_secret_value(),
                "security_token": cfg.security_token.get_secret_value(),
            },
            "admin_url": f"{base_url}/__sandbox",
            "change_event_secret": cfg.change_events.secret.get_secret_value(),
            "view_url": f"{base_url}/__sandbox/view",
        }

    def _create_integration_user(self) -> str:
        stamp = format_datetime(self.state.clock.now())
        user = self.store.schema.object("User")
        return self.store.insert_trusted(
            user,
            {
                "Username": self.config.username,
                "FirstName": "Integration",
                "LastName": "User",
                "Email": self.config.username,
                "Alias": "integ",
                "IsActive": True,
                "LanguageLocaleKey": "en_US",
                "TimeZoneSidKey": "GMT",
                "CreatedDate": stamp,
                "LastModifiedDate": stamp,
                "SystemModstamp": stamp,
            },
        )

    def _clear_data(self) -> None:
        # An empty org: standard schema (custom fields gone), no records but the integration
        # user, no jobs; then `load` starts from scratch.
        with self.store.lock:
            self.store.clear()
            self.store.schema.restore(standard_schema())
            self.tooling.clear()
            self.bulk.clear()
            self.integration_user_id = self._create_integration_user()
            self.loader = Loader(self.store, self.integration_user_id)

    def stop(self) -> None:
        """Stop background work (the change-event sender)."""
        self.change_events.stop()

    def _reset(self) -> None:
        # Counters, cursors and sessions start over on every reset; records go only without
        # keep_data (see `_clear_data`).
        self.limits.reset()
        self.queries.clear()
        self.store.commit_delay.rate = 0.0
        self.sessions.expire_all()
        self.change_events.clear()
