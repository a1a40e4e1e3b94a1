"""`POST /v1/sentiment`: score one text or a batch, offline (read scope)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from service.api.deps import AnalyzerDep, ReadKey
from service.sentiment.handlers import score_request
from service.sentiment.schemas import MAX_BATCH, SentimentRequest, SentimentResponse

router = APIRouter(prefix="/v1", tags=["sentiment"])


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
