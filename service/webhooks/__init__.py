"""Outbound webhooks: signed events (`flag.raised`, `flag.cleared`, `task.created`,
`score.changed`) for registered subscribers, through a persisted outbox.

- `outbox.WebhookOutbox.emit(event_type, payload, session=None)`: what the use cases call;
- `dispatcher.WebhookDispatcher`: sends due deliveries with retries (a thread of the app);
- `signing`: the Standard-Webhooks-compatible signature (and `verify` for receivers);
- `vault.SecretVault`: subscriber secrets encrypted at rest.
See docs/webhooks.md.
"""

from service.webhooks.dispatcher import WebhookDispatcher
from service.webhooks.events import EventSink, EventType
from service.webhooks.outbox import WebhookOutbox
from service.webhooks.settings import WebhookSettings
from service.webhooks.signing import SignatureError, new_secret, verify
from service.webhooks.vault import SecretVault, VaultUnavailableError

__all__ = [
    "EventSink",
    "EventType",
    "SecretVault",
    "SignatureError",
    "VaultUnavailableError",
    "WebhookDispatcher",
    "WebhookOutbox",
    "WebhookSettings",
    "new_secret",
    "verify",
]
