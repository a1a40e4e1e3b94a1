"""Stateless scoring of one request: sentiment for texts that lack it, then `score_customer`.

Interactions with text but no sentiment go through the given analyzer (one batch per request);
an unsupported language leaves the interaction without sentiment (reported, never made up).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from service.api.schemas.score import (
    AspectSummary,
    InteractionSentiment,
    ScoreRequest,
    ScoreResponse,
)
from service.domain import Interaction, Polarity
from service.scoring.customer import ScoringModels, score_customer
from service.sentiment.language import Hint, Prior
from service.sentiment.pipeline import SentimentAnalyzer


def _to_analyse(interactions: Sequence[Interaction]) -> list[Interaction]:
    return [i for i in interactions if i.sentiment is None and i.text and i.text.strip()]


def _texts(items: Sequence[Interaction], customer_language: str | None) -> list[tuple[str, Hint]]:
    """Each text with what says its language: the interaction's own `language` (the caller's
    word: it wins), else the customer's language as a prior (it decides only a text too short
    or unclear to tell, so a Russian message from an Estonian customer stays Russian)."""
    prior = Prior(customer_language) if customer_language else None
    return [(i.text or "", i.language or prior) for i in items]


def needs_model(body: ScoreRequest, analyzer: SentimentAnalyzer) -> bool:
    """Whether scoring `body` may call the (slow, GIL-releasing) sentiment model: some text to
    analyse was not analysed lately by this analyzer. Never wrong in the costly direction for
    long: an evicted memory entry only means one request runs on the loop."""
    todo = _to_analyse(body.interactions)
    return not analyzer.knows_signals(_texts(todo, body.customer.language))


def _with_sentiment(
    interactions: Sequence[Interaction], analyzer: SentimentAnalyzer, customer_language: str | None
) -> tuple[list[Interaction], list[InteractionSentiment]]:
    """Analyse texts that came without a sentiment; report what each interaction used."""
    todo = _to_analyse(interactions)
    found_signals = analyzer.signals_batch(_texts(todo, customer_language))
    analysed = dict(zip((i.id for i in todo), found_signals, strict=True))
    enriched: list[Interaction] = []
    report: list[InteractionSentiment] = []
    for item in interactions:
        signal, source, reason = item.sentiment, "given", None
        found = analysed.get(item.id)
        if found is not None:
            signal, source, reason = found.signal, "analyzed", found.reason
            if signal is not None:
                item = item.model_copy(update={"sentiment": signal})
        if signal is None:
            report.append(
                InteractionSentiment(
                    interaction_id=item.id,
                    source="none",
                    label=Polarity.UNKNOWN.value,
                    language=found.language if found is not None else None,
                    reason=reason or "no text to analyse",
                )
            )
        else:
            report.append(
                InteractionSentiment(
                    interaction_id=item.id,
                    source=source,
                    label=signal.label.value,
                    score=signal.score,
                    confidence=signal.confidence,
                    language=signal.language,
                    backend=signal.backend,
                    aspects=list(signal.aspects),
                )
            )
        enriched.append(item)
    return enriched, report


def _aspect_summary(report: Sequence[InteractionSentiment]) -> list[AspectSummary]:
    tally: dict[str, list[Any]] = defaultdict(list)
    for item in report:
        for aspect in item.aspects:
            tally[aspect.aspect].append(aspect)
    summary = [
        AspectSummary(
            aspect=name,
            mentions=len(found),
            positive=sum(a.polarity is Polarity.POSITIVE for a in found),
            neutral=sum(a.polarity is Polarity.NEUTRAL for a in found),
            negative=sum(a.polarity is Polarity.NEGATIVE for a in found),
            mean_score=round(sum(a.score for a in found) / len(found), 4),
        )
        for name, found in tally.items()
    ]
    # Worst first: what staff should look at.
    return sorted(summary, key=lambda s: (s.mean_score, -s.mentions, s.aspect))


def score_history(
    body: ScoreRequest, analyzer: SentimentAnalyzer, base: ScoringModels, now: datetime
) -> ScoreResponse:
    """The whole of `POST /v1/score` minus HTTP: pure but for the analyzer's cache."""
    as_of = body.as_of or now
    models = base
    if body.models is not None:
        # Iterating the model keeps fitted models as objects (model_dump would make dicts).
        models = base.model_copy(update={k: v for k, v in body.models if v is not None})
    interactions, report = _with_sentiment(body.interactions, analyzer, body.customer.language)
    score = score_customer(
        body.customer,
        as_of,
        models=models,
        surveys=body.surveys,
        interactions=interactions,
        cases=body.cases,
        transactions=body.transactions,
        account=body.account,
        owners={owner.id: owner for owner in body.owners},
        history=body.past_tasks,
        customer_value=body.customer_value,
    )
    return ScoreResponse(
        customer_id=score.customer_id,
        as_of=score.as_of,
        scoring_version=score.scoring_version,
        experience=score.experience,
        nps_class=score.nps_class,
        loyalty_stage=score.loyalty_stage,
        churn=score.churn,
        churn_note=score.churn_note,
        sentiment=report,
        aspects=_aspect_summary(report),
        actions=list(score.actions.tasks),
        skipped_actions=list(score.actions.skipped),
    )
