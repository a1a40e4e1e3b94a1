"""Which changes become webhook events (the recording sink of tests/fakes stands in for the
outbox)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.domain import (
    Channel,
    Customer,
    Interaction,
    Polarity,
    SentimentSignal,
    SurveyKind,
    SurveyResponse,
)
from service.scoring.customer import score_customer
from service.store.tables import ScoreHistory
from service.usecases.announce import announce_scores
from tests.fakes.stores import RecordedEvents

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def unhappy() -> Any:
    customer = Customer(id="c1", display_name="Lan")
    answers = [
        SurveyResponse(
            id=f"s{i}", customer_id="c1", kind=SurveyKind.NPS, value=1, occurred_at=AS_OF
        )
        for i in range(3)
    ]
    chats = [
        Interaction(
            id="i1",
            customer_id="c1",
            channel=Channel.CHAT,
            occurred_at=AS_OF,
            sentiment=SentimentSignal(score=-0.9, label=Polarity.NEGATIVE),
        )
    ]
    return score_customer(customer, AS_OF, surveys=answers, interactions=chats)


def history(score: float | None, flagged: bool) -> ScoreHistory:
    return ScoreHistory(
        customer_id="c1",
        as_of=AS_OF,
        experience_score=score,
        churn_flag=flagged,
        scoring_version="t",
    )


def test_a_moved_score_is_announced_and_a_steady_one_is_not() -> None:
    now = unhappy()
    assert now.experience.score is not None
    sink = RecordedEvents()
    announce_scores(sink, "org", {"c1": history(now.experience.score + 20, False)}, [now])
    changed = [e for e in sink.events if e.type == "score.changed"]
    assert len(changed) == 1
    assert changed[0].payload["previous"] == round(now.experience.score + 20, 1)
    quiet = RecordedEvents()
    announce_scores(quiet, "org", {"c1": history(now.experience.score + 1, False)}, [now])
    assert [e for e in quiet.events if e.type == "score.changed"] == []


def test_nothing_is_sent_without_a_sink() -> None:
    assert announce_scores(None, "org", {}, [unhappy()]) == 0


def test_a_flag_that_goes_down_is_cleared() -> None:
    calm = Customer(id="c1")
    now = score_customer(
        calm,
        AS_OF,
        surveys=[
            SurveyResponse(
                id="s9", customer_id="c1", kind=SurveyKind.NPS, value=9, occurred_at=AS_OF
            )
        ],
    )
    assert now.churn is None  # no purchases and no complaint: no estimate, so no flag now
    sink = RecordedEvents()
    announce_scores(sink, "org", {"c1": history(now.experience.score, True)}, [now])
    assert sink.types() == ["flag.cleared"]


def test_a_complaint_without_an_estimate_raises_the_flag_saying_why() -> None:
    now = unhappy()  # detractor, no purchases: no probability, the complaint flags them
    sink = RecordedEvents()
    announce_scores(sink, "org", {"c1": history(now.experience.score, False)}, [now])
    raised = [e.payload for e in sink.events if e.type == "flag.raised"]
    assert len(raised) == 1
    assert raised[0]["probability"] is None
    assert raised[0]["drivers"][-1] == "No churn estimate: no purchases yet"
