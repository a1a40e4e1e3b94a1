"""FastAPI routers of the HubSpot emulator, one module per API family."""
