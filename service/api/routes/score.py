"""`POST /v1/score`: stateless scoring of one customer's history (read scope, nothing stored).

The work (`stateless_scoring.score_history`) is CPU-bound pure Python of about a millisecond,
except a call of the embedding model (tens of milliseconds a text, with the GIL released). Only
a request that may call the model goes to the thread pool, so the event loop keeps serving the
others meanwhile; the rest run on the loop, since with the GIL a thread hop would add its own
cost (measured: bench/api) and no parallelism.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from service.api.deps import ReadKey, get_analyzer
from service.api.lean_route import json_body, lean_route, query_choice
from service.api.schemas.score import EXAMPLE_REQUEST, ScoreRequest, ScoreResponse
from service.api.services import services_of
from service.api.stateless_scoring import needs_model, score_history
from service.scoring.customer import ScoringModels
from service.sentiment.pipeline import SentimentAnalyzer
from service.store.keys import KeyInfo

router = APIRouter(prefix="/v1", tags=["scoring"])


class SentimentMode(StrEnum):
    """`accurate`: the configured backend chain (embedding model where the fast path is unsure);
    `fast`: the lexicon backend alone, an order of magnitude cheaper, for high request rates."""

    ACCURATE = "accurate"
    FAST = "fast"


async def _answer(request: Request, body: ScoreRequest, sentiment: SentimentMode) -> Response:
    # Read from the services here rather than as dependencies: each dependency node costs
    # FastAPI tens of microseconds a request.
    services = services_of(request.app)
    analyzer = await get_analyzer(request)
    models = services.scoring_models
    now = services.clock.now()
    if sentiment is SentimentMode.FAST:
        # Lexicon only: no model call, so never worth a thread hop (the fast analyzer is built
        # from the loaded one, without loading anything).
        result = _score_json(body, services.analyzer_factory.fast(), models, now)
    elif needs_model(body, analyzer):
        result = await run_in_threadpool(_score_json, body, analyzer, models, now)
    else:
        result = _score_json(body, analyzer, models, now)
    return Response(result, media_type="application/json")


async def _serve(request: Request, _: KeyInfo) -> Response:
    """What the route runs (see `score` for what it documents)."""
    mode = query_choice(request, "sentiment", SentimentMode, SentimentMode.ACCURATE)
    return await _answer(request, json_body(ScoreRequest, await request.body()), mode)


async def score(
    body: Annotated[ScoreRequest, Body(openapi_examples={"vi": {"value": EXAMPLE_REQUEST}})],
    key: ReadKey,
    request: Request,
    sentiment: Annotated[
        SentimentMode, Query(description=SentimentMode.__doc__)
    ] = SentimentMode.ACCURATE,
) -> Response:
    """What the route documents; requests are served by `_serve` (see below)."""
    return await _answer(request, body, sentiment)


router.add_api_route(
    "/score",
    score,
    methods=["POST"],
    response_model=ScoreResponse,
    summary="Score one customer's history (stateless)",
    description=(
        "Send a customer with their surveys, interactions (with text), cases and transactions; "
        "get the explained experience score, NPS class and loyalty stage, the sentiment and "
        "aspects of every interaction (analysed here when only text is given), the churn risk "
        "with its drivers and the next-best actions with a one-sentence why. Nothing is stored "
        "or logged. Records may omit `customer_id` and `id`. Records after `as_of` are ignored."
    ),
    # A lean route: the same auth, validation and errors as `score`'s signature declares,
    # without FastAPI's per-request dependency solving (service/api/lean_route.py says why).
    route_class_override=lean_route(_serve),
)


def _score_json(
    body: ScoreRequest, analyzer: SentimentAnalyzer, models: ScoringModels, now: datetime
) -> bytes:
    # Serialised here and returned as bytes: FastAPI would otherwise validate the (already
    # valid) response model again.
    return score_history(body, analyzer, models, now).model_dump_json().encode()
