"""Local HTTP emulators of the Salesforce and HubSpot APIs, a data generator and fault injection."""
