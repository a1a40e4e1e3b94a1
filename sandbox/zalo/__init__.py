"""An emulator of the Zalo Official Account OpenAPI subset cem-bridge uses (README.md)."""
