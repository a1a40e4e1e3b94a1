"""Load test of `POST /v1/score` against `cem serve`, beside a bare FastAPI endpoint (issue 7).

Run `python -m bench.api`; see `__main__.py`.
"""
