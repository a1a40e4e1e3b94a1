"""HTTP emulator of the HubSpot CRM API subset cem-bridge uses (docs/crm-api-facts.md §3 and §6).

Faithful enough that the real, unpatched ``hubspot-api-client`` works against it: CRM v3 objects
(list/get/create/update/archive, batch, search with index lag), associations v4, properties and
groups, owners, private-app and OAuth bearer tokens, HubSpot's rate limits and error bodies, and
a webhook sender. Entry points: :func:`sandbox.hubspot.app.create_app` and
:meth:`sandbox.hubspot.emulator.HubSpotEmulator.load`.
"""
