"""Part of cem-bridge; see README.md, "How the pieces fit", for what belongs here."""
