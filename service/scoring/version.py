"""The scoring version stamped on every result; bump it when any formula or default changes."""

SCORING_VERSION = "2026.11.1"
