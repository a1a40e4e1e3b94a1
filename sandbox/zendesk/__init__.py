"""A local emulator of the Zendesk Support API v2 subset cem-bridge uses (README.md)."""
