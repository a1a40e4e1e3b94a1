"""`POST /v1/sentiment`: score one text or a batch, offline (read scope)."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from service.api.deps import ReadKey
from service.sentiment.handlers import score_request
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.schemas import MAX_BATCH, SentimentRequest, SentimentResponse
from service.sentiment.settings import SentimentSettings

router = APIRouter(prefix="/v1", tags=["sentiment"])
_BUILD_LOCK = threading.Lock()


async def get_analyzer(request: Request) -> SentimentAnalyzer:
    """The app's analyzer: `app.state.sentiment` when the composition root set one, else built
    once on first use with the default settings (model load ~0.2 s, off the event loop)."""
    analyzer: SentimentAnalyzer | None = getattr(request.app.state, "sentiment", None)
    if analyzer is not None:  # the hot path: no thread hop, no lock
        return analyzer
    return await run_in_threadpool(_build_analyzer, request.app.state)


def _build_analyzer(state: Any) -> SentimentAnalyzer:
    with _BUILD_LOCK:
        analyzer: SentimentAnalyzer | None = getattr(state, "sentiment", None)
        if analyzer is None:
            settings = getattr(state.settings, "sentiment", None) or SentimentSettings()
            analyzer = SentimentAnalyzer(settings)
            state.sentiment = analyzer
    return analyzer


AnalyzerDep = Annotated[SentimentAnalyzer, Depends(get_analyzer)]


@router.post(
    "/sentiment",
    summary="Score sentiment and aspects",
    description=(
        "Label (positive/neutral/negative, or unknown for unsupported languages), score in "
        "[-1, 1], confidence, language, backend, evidence and per-aspect polarity for one text "
        f"or a batch of up to {MAX_BATCH}. Runs fully offline; message text is not stored or "
        "logged."
    ),
)
async def score_sentiment(
    body: SentimentRequest, _: ReadKey, analyzer: AnalyzerDep
) -> SentimentResponse:
    # Scoring is CPU-bound (embedding model); keep the event loop free.
    return await run_in_threadpool(score_request, body, analyzer)
