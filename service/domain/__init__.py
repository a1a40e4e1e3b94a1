"""Canonical, frozen domain models shared by every layer (pure: no I/O)."""
