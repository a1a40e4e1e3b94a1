"""Domain models: frozen, validated, with clear errors and a stable task key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from service.domain import (
    ActionTask,
    Batch,
    Case,
    CaseStatus,
    Cursor,
    Customer,
    SurveyKind,
    SurveyResponse,
    task_key,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_models_are_frozen() -> None:
    c = Customer(id="c1", display_name="Ana")
    with pytest.raises(ValidationError):
        c.display_name = "Bob"  # type: ignore[misc]


def test_naive_datetimes_are_rejected_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        SurveyResponse(
            id="s", customer_id="c", kind=SurveyKind.NPS, value=9, occurred_at=datetime(2026, 1, 1)
        )


@pytest.mark.parametrize(
    ("kind", "value", "scale", "message"),
    [
        (SurveyKind.NPS, 11, None, "outside 0-10"),
        (SurveyKind.CSAT, 0, None, "outside 1-5"),
        (SurveyKind.CES, 8, None, "outside 1-7"),
        (SurveyKind.CSAT, 3, (5, 1), "empty"),
        (SurveyKind.NPS, 3, (1, 5), "0-10 only"),
    ],
)
def test_survey_values_must_lie_on_their_scale(
    kind: SurveyKind, value: float, scale: tuple[int, int] | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        SurveyResponse(id="s", customer_id="c", kind=kind, value=value, scale=scale, occurred_at=T0)


def test_custom_csat_scale_is_accepted() -> None:
    r = SurveyResponse(
        id="s", customer_id="c", kind=SurveyKind.CSAT, value=9, scale=(1, 10), occurred_at=T0
    )
    assert r.bounds == (1, 10)


def test_case_times_must_be_ordered_and_closed_cases_need_a_close_time() -> None:
    with pytest.raises(ValidationError, match="closed_at is before opened_at"):
        Case(
            id="k",
            customer_id="c",
            opened_at=T0,
            closed_at=T0 - timedelta(hours=1),
            status=CaseStatus.CLOSED,
        )
    with pytest.raises(ValidationError, match="needs closed_at"):
        Case(id="k", customer_id="c", opened_at=T0, status=CaseStatus.RESOLVED)


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        Customer(id="c1", nickname="x")  # type: ignore[call-arg]


def test_task_key_is_stable_and_separates_its_parts() -> None:
    assert task_key("c1", "detractor", "nps") == task_key("c1", "detractor", "nps")
    assert task_key("c1", "detractor", "nps") != task_key("c1", "detractor", "csat")
    assert task_key("a", "bc", "d") != task_key("ab", "c", "d")
    task = ActionTask(
        customer_id="c1",
        playbook="detractor",
        reason="nps",
        subject="Call",
        body="",
        due_at=T0,
        as_of=T0,
        scoring_version="v",
    )
    assert task.idempotency_key == task_key("c1", "detractor", "nps")
    assert task.model_dump()["idempotency_key"] == task.idempotency_key


def test_batch_carries_records_and_cursor() -> None:
    batch = Batch[Customer](
        records=(Customer(id="c1"), Customer(id="c2")),
        cursor=Cursor(stream="contacts", modified_at=T0, last_id="c2"),
        has_more=True,
    )
    assert [c.id for c in batch.records] == ["c1", "c2"]
    with pytest.raises(ValidationError):
        Batch[Customer](records=({"id": ""},), cursor=Cursor(stream="contacts"))  # type: ignore[arg-type]
