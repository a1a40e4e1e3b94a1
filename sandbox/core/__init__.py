"""Shared emulator machinery: clock, fault injection, request log, admin API, server, HTML view.

Both CRM emulators build on these pieces so that tests and benchmarks drive faults, time and
observation the same way whichever CRM they talk to (see docs/crm-api-facts.md §6,
"Observability for tests").
"""
