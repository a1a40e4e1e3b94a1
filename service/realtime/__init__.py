"""Inbound CRM events: verified, de-duplicated, and turned into re-reads of the records."""
