"""Real-time latency: from a CRM write to the churn flag and the task visible in that CRM."""
