"""HubSpot adapter (hubspot-api-client)."""
