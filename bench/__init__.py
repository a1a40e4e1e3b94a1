"""Benchmarks; each sub-package runs as `python -m bench.<name>` and writes to bench/results/."""
