"""Deterministic, streamed, multilingual synthetic CRM data for the sandbox emulators."""
