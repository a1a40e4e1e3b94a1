"""The Zendesk Support connector's declaration (adapters/connector.py): what the service reads."""

from __future__ import annotations

from datetime import timedelta

from adapters.connector import BuildOptions, Capabilities, Connector, WebhookSource, Wiring
from adapters.mapping import MappingSet
from adapters.zendesk import webhooks
from adapters.zendesk.settings import ZendeskSettings


def build(
    name: str, settings: ZendeskSettings, mappings: MappingSet, options: BuildOptions
) -> Wiring:
    # Imported here: the HTTP client loads when a connection is built, not when settings are read.
    from adapters.zendesk.client import ZendeskClient
    from adapters.zendesk.reader import ZendeskReader
    from adapters.zendesk.writer import ZendeskWriter

    client = ZendeskClient(name, settings, options.policy, pacing_url=options.pacing_url)
    lookback = timedelta(seconds=settings.lookback_seconds)
    return Wiring(ZendeskReader(client, mappings, lookback), ZendeskWriter(client, mappings))


CONNECTOR = Connector(
    kind="zendesk",
    sdk=None,
    label="Zendesk",
    settings=ZendeskSettings,
    # No tasks: Zendesk Support has none (a follow-up is a ticket or a flag: docs/zendesk.md).
    capabilities=Capabilities(
        pull=True, push_fields=True, tasks=False, erasure=True, provisioning=True
    ),
    build=build,
    task_key_field=None,
    webhooks=WebhookSource(
        verify=webhooks.verify,
        notices=webhooks.notices,
        signed_by="Zendesk webhook signature",
        body="One Zendesk event (signed with X-Zendesk-Webhook-Signature and "
        "X-Zendesk-Webhook-Signature-Timestamp)",
        max_events=webhooks.MAX_EVENTS,
        decode=webhooks.decode,
    ),
)
