"""The Zalo Official Account connector (docs/zalo.md)."""
