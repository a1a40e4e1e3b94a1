"""An HTTP emulator of the Salesforce REST API subset cem-bridge uses.

Faithful enough that the real `simple-salesforce` client works against it unchanged over loopback
TLS (docs/crm-api-facts.md §1.2 D). Entry points: `sandbox.salesforce.app.create_app` and
`SalesforceEmulator.load`.
"""
