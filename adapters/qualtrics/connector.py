"""The Qualtrics connector's declaration (adapters/connector.py): what the service reads.

A read-only source: it pulls survey responses and takes events; its writer is a
`ReadOnlyWriter` whose only act is `cem setup` subscribing to the surveys' events.
"""

from __future__ import annotations

from datetime import timedelta

from adapters.connector import BuildOptions, Capabilities, Connector, WebhookSource, Wiring
from adapters.mapping import MappingSet
from adapters.qualtrics import webhooks
from adapters.qualtrics.settings import QualtricsSettings


def build(
    name: str, settings: QualtricsSettings, mappings: MappingSet, options: BuildOptions
) -> Wiring:
    from adapters.qualtrics.client import QualtricsClient
    from adapters.qualtrics.reader import QualtricsReader
    from adapters.qualtrics.writer import QualtricsSubscriber

    client = QualtricsClient(name, settings, options.policy, pacing_url=options.pacing_url)
    reader = QualtricsReader(client, mappings, timedelta(seconds=settings.lookback_seconds))
    return Wiring(reader, QualtricsSubscriber(client, reader.surveys()))


CONNECTOR = Connector(
    kind="qualtrics",
    sdk=None,  # no maintained Python SDK: a thin httpx client (docs/qualtrics.md)
    label="Qualtrics",
    settings=QualtricsSettings,
    capabilities=Capabilities(pull=True, provisioning=True),
    build=build,
    webhooks=WebhookSource(
        verify=webhooks.verify,
        notices=webhooks.notices,
        decode=webhooks.decode,
        signed_by="Qualtrics event HMAC (hex HMAC-SHA512 of MSG under the sharedKey)",
        body="A Qualtrics completed-response event, form-urlencoded: Topic, HMAC and MSG",
        max_events=webhooks.MAX_EVENTS,
    ),
)
