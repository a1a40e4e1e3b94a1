"""The Zalo Official Account connector's declaration (adapters/connector.py).

Read-only: followers and their chat messages are read and scored; what we learn goes to the
CRMs holding the same person (their contact's `refs.zalo`, docs/identity.md), never back to
Zalo. Replies stay a staff task: a consultation message is refused 7 days after the user's last
message, and an automatic apology in a chat is not what the seed case asks for (docs/zalo.md).
"""

from __future__ import annotations

from datetime import timedelta

from adapters.connector import BuildOptions, Capabilities, Connector, WebhookSource, Wiring
from adapters.mapping import MappingSet
from adapters.zalo import webhooks
from adapters.zalo.settings import ZaloSettings


def build(name: str, settings: ZaloSettings, mappings: MappingSet, options: BuildOptions) -> Wiring:
    from adapters.zalo.client import ZaloClient
    from adapters.zalo.reader import ZaloReader

    client = ZaloClient(name, settings, options.policy, pacing_url=options.pacing_url)
    return Wiring(ZaloReader(client, mappings, timedelta(seconds=settings.lookback_seconds)))


CONNECTOR = Connector(
    kind="zalo",
    sdk=None,  # a thin httpx client: PyPI's Zalo SDKs are stale (docs/zalo.md)
    label="Zalo",
    settings=ZaloSettings,
    capabilities=Capabilities(pull=True),
    build=build,
    webhooks=WebhookSource(
        verify=webhooks.verify,
        notices=webhooks.notices,
        signed_by="Zalo X-ZEvent-Signature (mac = SHA-256 of app id, body, timestamp, OA key)",
        body="One Zalo OA event (user_send_text, follow, ...), signed with X-ZEvent-Signature",
        max_events=1,
        decode=webhooks.decode,
        sender=webhooks.sender,
    ),
)
