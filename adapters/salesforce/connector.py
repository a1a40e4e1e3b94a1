"""The Salesforce connector's declaration (adapters/connector.py): what the service reads."""

from __future__ import annotations

from datetime import timedelta

from adapters.connector import BuildOptions, Capabilities, Connector, WebhookSource, Wiring
from adapters.mapping import MappingSet
from adapters.salesforce import webhooks
from adapters.salesforce.settings import SalesforceSettings

# The custom Task field our tasks carry their idempotency key in (created by `cem setup`).
TASK_KEY_FIELD = "CEM_Task_Key__c"


def build(
    name: str, settings: SalesforceSettings, mappings: MappingSet, options: BuildOptions
) -> Wiring:
    # Imported here: simple-salesforce loads when a connection is built, not when settings are
    # read.
    from adapters.salesforce.client import SalesforceClient
    from adapters.salesforce.reader import SalesforceReader
    from adapters.salesforce.writer import SalesforceWriter

    client = SalesforceClient(name, settings, options.policy)
    lookback = timedelta(seconds=settings.lookback_seconds)
    return Wiring(SalesforceReader(client, mappings, lookback), SalesforceWriter(client, mappings))


CONNECTOR = Connector(
    kind="salesforce",
    sdk="simple_salesforce",
    label="Salesforce",
    settings=SalesforceSettings,
    capabilities=Capabilities(
        pull=True, push_fields=True, tasks=True, erasure=True, provisioning=True
    ),
    build=build,
    task_key_field=TASK_KEY_FIELD,
    pull_where=True,  # a SOQL condition ANDed to the pull's WHERE (adapters/salesforce/soql.py)
    webhooks=WebhookSource(
        verify=webhooks.verify,
        notices=webhooks.notices,
        signed_by="Standard Webhooks signature",
        body="Change Data Capture events in CometD JSON form (signed with webhook-id, "
        "webhook-timestamp and webhook-signature)",
        max_events=webhooks.MAX_EVENTS,
        aliases=(("salesforce_webhooks", "/v1/webhooks/salesforce"),),
    ),
)
