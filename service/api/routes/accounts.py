"""Accounts over HTTP: `GET /v1/accounts/{id}`, the roll-up of an account's contacts."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import ClockDep, ReadKey, ViewsDep
from service.api.problems import ProblemError
from service.api.routes.customers import EntityId
from service.api.schemas.accounts import AccountOut

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.get(
    "/accounts/{account_id}",
    summary="Get an account's roll-up",
    description=(
        "The account's experience score as the weighted mean of its contacts' latest scores "
        "(role x revenue x recency x confidence; each contact's contribution is listed), "
        "churn across its contacts, NPS/CSAT/CES of their answers with intervals, open tasks "
        "and the contacts themselves."
    ),
    responses={404: {"description": "Unknown account, or deleted in every CRM"}},
)
def get_account(account_id: EntityId, _: ReadKey, views: ViewsDep, clock: ClockDep) -> AccountOut:
    view = views.account(account_id, clock.now())
    if view is None:
        raise ProblemError(404, f"no account with id {account_id}", kind="not-found")
    return AccountOut.model_validate(view, from_attributes=True)
