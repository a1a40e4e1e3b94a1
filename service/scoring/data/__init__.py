"""Shipped scoring data: experience weights and next-best-action playbooks (YAML)."""
