"""API-call efficiency of the CRM adapters, measured from the sandboxes' request logs."""
