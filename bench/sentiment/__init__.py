"""Evaluation harness and head training for `service.sentiment` (`python -m bench.sentiment`)."""
