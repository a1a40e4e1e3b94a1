"""Part of cem-bridge; see ../shared/docs/architecture.md §2 for what belongs here."""
