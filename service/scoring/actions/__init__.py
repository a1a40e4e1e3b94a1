"""Next-best-action: YAML playbooks turn scores and events into ranked, explained tasks."""
