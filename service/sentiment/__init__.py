"""Multilingual sentiment and aspects, fully offline."""
