"""The floor: cem-bridge's `POST /v1/score` with its scoring replaced by a constant answer.

Everything else is the real service, served exactly as `cem serve` serves it: the same app,
middleware, access log, API-key check, rate limiter, body validation (the request is still
parsed and validated as `ScoreRequest`) and an answer of the real size (the profile of the
documented example, computed once at start). What this endpoint costs beyond the bare one is
what the service adds before any scoring, so `bench.api` can say how much of the throughput
goal is left for sentiment and scoring at all.

Run: `python -m bench.api.floor --port 8102 [--workers N]`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI

from bench.api.bare import serve_from_command_line
from service.api.routes import score
from service.api.schemas.score import EXAMPLE_REQUEST, ScoreRequest
from service.api.stateless_scoring import score_history
from service.config import load_settings
from service.main import create_app
from service.scoring.customer import ScoringModels
from service.sentiment.pipeline import SentimentAnalyzer


def create_floor_app() -> FastAPI:
    """The service's app whose scoring step answers the example's profile, whatever the body."""
    settings = load_settings()
    analyzer = SentimentAnalyzer(settings.sentiment)
    example = ScoreRequest.model_validate(EXAMPLE_REQUEST)
    answer = score_history(example, analyzer, ScoringModels(), datetime.now(UTC))
    constant = answer.model_dump_json().encode()
    # The route module's two steps that read the analyzer and the models: replaced in this
    # process only (a benchmark server), after validation, before any work.
    score._score_json = lambda body, analyzer, models, now: constant
    score.needs_model = lambda body, analyzer: False  # type: ignore[attr-defined]
    return create_app(settings)  # which sets up logging as for `cem serve`


def main() -> None:
    serve_from_command_line(
        __doc__ or "",
        create_floor_app,
        "bench.api.floor:create_floor_app",
        access_log=False,  # as `cem serve`: the service writes its own access line
    )


if __name__ == "__main__":
    main()
