"""CRM adapters: one folder per CRM; the only code that imports a CRM SDK."""
