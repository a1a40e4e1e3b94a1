"""Customers over HTTP: `GET /v1/customers` (filtered, sorted, keyset-paged) and
`GET /v1/customers/{id}` (the full profile). Erasure and rescoring live in customer_actions.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from service.api.deps import ClockDep, ProfilesDep, ReadKey, ViewsDep
from service.api.listing import Cursor, Limit, cursor_problems
from service.api.problems import ProblemError, invalid_field
from service.api.schemas.customers import CustomerPage, CustomerProfileOut, CustomerSort
from service.scoring.segments import LoyaltyStage, NpsClass
from service.store.paging import Sort
from service.store.profiles import CustomerFilter
from service.usecases.customer_view import CustomerSummary

router = APIRouter(prefix="/v1", tags=["customers"])

EntityId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Our id (32 hex digits)")]


Score = Annotated[float | None, Query(ge=0, le=100)]
Risk = Annotated[float | None, Query(ge=0, le=1)]


def _check_range(name: str, low: float | None, high: float | None) -> None:
    if low is not None and high is not None and low > high:
        raise invalid_field(f"query.min_{name}", f"min_{name} must not exceed max_{name}")


@router.get(
    "/customers",
    summary="List customers",
    description=(
        "Customers with their latest scores, filtered and sorted, one page at a time: pass "
        "`next_cursor` back as `cursor` (with the same `sort`) until it is null. Pages are "
        "keyset-based, so customers scored meanwhile never make a page skip or repeat a "
        "customer. Customers deleted in every CRM are left out; customers not scored yet have "
        "null scores and come last in score and risk orders. Ranges are inclusive; "
        "`segment` may be repeated (any of them)."
    ),
    responses={400: {"description": "A cursor of another sort or not from this API"}},
)
def list_customers(
    _: ReadKey,
    profiles: ProfilesDep,
    segment: Annotated[list[LoyaltyStage] | None, Query(max_length=6)] = None,
    owner: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    language: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=16)
    ] = None,
    nps_class: NpsClass | None = None,
    flagged: Annotated[bool | None, Query(description="Churn flag raised (true) or not")] = None,
    scored: Annotated[bool | None, Query(description="Scored at least once (true) or not")] = None,
    min_score: Score = None,
    max_score: Score = None,
    min_risk: Risk = None,
    max_risk: Risk = None,
    sort: CustomerSort = CustomerSort.UPDATED_AT_DESC,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> CustomerPage:
    _check_range("score", min_score, max_score)
    _check_range("risk", min_risk, max_risk)
    where = CustomerFilter(
        segments=tuple(s.value for s in segment or ()),
        owner=owner,
        language=language,
        nps_class=nps_class.value if nps_class else None,
        flagged=flagged,
        scored=scored,
        min_score=min_score,
        max_score=max_score,
        min_risk=min_risk,
        max_risk=max_risk,
    )
    with cursor_problems():
        page = profiles.page(where, sort=Sort.parse(sort.value), cursor=cursor, limit=limit)
    return CustomerPage(
        items=[CustomerSummary.of(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/customers/{customer_id}",
    summary="Get a customer's profile",
    description=(
        "The latest scoring (experience score with each factor's contribution and evidence, "
        "churn risk with its drivers), the monthly sentiment trend and the topics of the last "
        "year's messages, our open next-best-action tasks and the score and survey history."
    ),
    responses={404: {"description": "Unknown customer, or deleted in every CRM"}},
)
def get_customer(
    customer_id: EntityId, _: ReadKey, views: ViewsDep, clock: ClockDep
) -> CustomerProfileOut:
    view = views.profile(customer_id, clock.now())
    if view is None:
        raise ProblemError(404, f"no customer with id {customer_id}", kind="not-found")
    return CustomerProfileOut.model_validate(view, from_attributes=True)
