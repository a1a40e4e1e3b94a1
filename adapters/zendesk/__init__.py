"""The Zendesk Support connector (docs/zendesk.md)."""
