"""The pure function layer behind the HTTP route and the CLI: request in, response out."""

from __future__ import annotations

from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.schemas import ScoredText, SentimentItem, SentimentRequest, SentimentResponse


def score_items(items: list[SentimentItem], analyzer: SentimentAnalyzer) -> list[ScoredText]:
    """Score validated items in one batch; results keep the items' order and ids."""
    results = analyzer.analyze_batch([(item.text, item.language) for item in items])
    return [
        ScoredText(id=item.id, **result.model_dump())
        for item, result in zip(items, results, strict=True)
    ]


def score_request(request: SentimentRequest, analyzer: SentimentAnalyzer) -> SentimentResponse:
    """Answer `POST /v1/sentiment`."""
    return SentimentResponse(results=score_items(request.as_items(), analyzer))
