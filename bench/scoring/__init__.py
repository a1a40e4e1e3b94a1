"""Scoring benchmarks: `python -m bench.scoring` (population scoring) and churn evaluations."""
