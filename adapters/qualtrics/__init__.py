"""The Qualtrics connector: survey responses (NPS, CSAT, CES and free text) read by export."""
