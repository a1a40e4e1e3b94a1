"""The HubSpot connector's declaration (adapters/connector.py): what the service reads."""

from __future__ import annotations

from datetime import timedelta

from adapters.connector import BuildOptions, Capabilities, Connector, WebhookSource, Wiring
from adapters.hubspot import webhooks
from adapters.hubspot.settings import HubSpotSettings
from adapters.mapping import MappingSet

# The custom task property our tasks carry their idempotency key in (created by `cem setup`;
# unique, so it doubles as the id property of idempotent task upserts).
TASK_KEY = "cem_task_key"


def build(
    name: str, settings: HubSpotSettings, mappings: MappingSet, options: BuildOptions
) -> Wiring:
    # Imported here: hubspot-api-client loads when a connection is built, not when settings are
    # read.
    from adapters.hubspot.client import HubSpotClient
    from adapters.hubspot.reader import HubSpotReader
    from adapters.hubspot.writer import HubSpotWriter

    client = HubSpotClient(name, settings, options.policy, pacing_url=options.pacing_url)
    lookback = timedelta(seconds=settings.lookback_seconds)
    return Wiring(HubSpotReader(client, mappings, lookback), HubSpotWriter(client, mappings))


CONNECTOR = Connector(
    kind="hubspot",
    sdk="hubspot",
    label="HubSpot",
    settings=HubSpotSettings,
    capabilities=Capabilities(
        pull=True, push_fields=True, tasks=True, erasure=True, provisioning=True
    ),
    build=build,
    task_key_field=TASK_KEY,
    webhooks=WebhookSource(
        verify=webhooks.verify,
        notices=webhooks.notices,
        signed_by="HubSpot v3 signature",
        body="HubSpot webhook events (signed with X-HubSpot-Signature-v3 and "
        "X-HubSpot-Request-Timestamp)",
        max_events=webhooks.MAX_EVENTS,
        aliases=(
            ("hubspot_webhooks", "/v1/webhooks/hubspot"),
            ("hubspot_events", "/v1/crm-events/hubspot/{connection}"),
        ),
    ),
)
