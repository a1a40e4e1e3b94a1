"""Outbound webhook subscriptions (admin scope): register, list, inspect, remove.

The signing secret is returned once, by the `POST` that creates it; afterwards it exists only
encrypted in the database (see docs/webhooks.md for how receivers verify signatures).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from service.api.deps import AdminKey, EgressDep, VaultDep, WebhookRepositoryDep
from service.api.listing import CreatedSort, Cursor, Limit, cursor_problems
from service.api.problems import ProblemError, invalid_field
from service.store.paging import Sort
from service.store.tables import WebhookDeliveryState, WebhookSubscription
from service.webhooks import EventType, new_secret
from service.webhooks.egress import EgressBlockedError
from service.webhooks.store import WebhookStore

router = APIRouter(prefix="/v1/webhooks/subscriptions", tags=["webhooks"])

SubscriptionId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/cem",
                    "events": ["flag.raised", "task.created"],
                    "description": "CRM automation: churn alerts",
                }
            ]
        },
    )

    url: AnyHttpUrl = Field(
        description=(
            "Where to POST events: an https URL whose host resolves only to public addresses "
            "(private, loopback, link-local and metadata ranges need the operator's "
            "CEM_WEBHOOKS__ALLOWED_DESTINATIONS; http needs CEM_WEBHOOKS__ALLOW_HTTP)."
        )
    )
    events: list[EventType] = Field(
        default=[], description="Event types to receive; empty = all of them."
    )
    description: str = Field(default="", max_length=200)

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, url: AnyHttpUrl) -> AnyHttpUrl:
        # Credentials in a URL would end up in logs and listings; the signature authenticates.
        if url.username or url.password:
            raise ValueError("the URL may not contain a user name or password")
        if len(str(url)) > 2048:
            raise ValueError("the URL is longer than 2048 characters")
        return url


class SubscriptionOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime
    disabled_at: datetime | None
    disabled_reason: str | None

    @classmethod
    def of(cls, row: WebhookSubscription) -> SubscriptionOut:
        return cls(
            id=row.id,
            url=row.url,
            events=list(row.event_types),
            description=row.description,
            active=row.active,
            created_at=row.created_at,
            disabled_at=row.disabled_at,
            disabled_reason=row.disabled_reason,
        )


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="The signing secret (`whsec_…`). Shown once; store it now.")


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]
    next_cursor: str | None = None


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event_type: str
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None = Field(
        description=(
            "Why the last attempt failed, as a category: blocked, dns, refused, timeout, tls, "
            "connect, protocol, redirect, http_4xx, http_5xx, gone, secret_unavailable, "
            "subscription_removed, erased (the receiver's own words are not kept)"
        )
    )
    next_attempt_at: datetime | None = Field(
        description="When the next attempt is due; null once delivered or failed"
    )
    created_at: datetime
    delivered_at: datetime | None


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = None


def _found(repository: WebhookStore, subscription_id: str) -> WebhookSubscription:
    row = repository.subscription(subscription_id)
    if row is None:
        raise ProblemError(404, f"no subscription with id {subscription_id}", kind="not-found")
    return row


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a webhook subscriber",
    responses={
        422: {"description": "Invalid body, or a URL that may not receive webhooks"},
        503: {"description": "No encryption key configured for secrets"},
    },
)
def create_subscription(
    body: SubscriptionCreate,
    _: AdminKey,
    repository: WebhookRepositoryDep,
    vault: VaultDep,
    egress: EgressDep,
) -> SubscriptionCreated:
    if not vault.available:
        raise ProblemError(
            503,
            "webhook secrets cannot be stored: set CEM_WEBHOOKS__ENCRYPTION_KEY (32+ characters)",
            kind="webhooks-not-configured",
        )
    try:
        # Checked again before every delivery (DNS answers change); this catches typos early.
        egress.check(str(body.url))
    except EgressBlockedError as blocked:
        raise invalid_field("body.url", f"{blocked.category}: {blocked.reason}") from None
    secret = new_secret()
    row = repository.add(
        WebhookSubscription(
            url=str(body.url),
            event_types=sorted({e.value for e in body.events}),
            description=body.description,
            secret_ciphertext=vault.encrypt(secret),
        )
    )
    return SubscriptionCreated(**SubscriptionOut.of(row).model_dump(), secret=secret)


@router.get("", summary="List webhook subscribers")
def list_subscriptions(
    _: AdminKey,
    repository: WebhookRepositoryDep,
    active: Annotated[
        bool | None, Query(description="Only active (true) or disabled (false) subscribers.")
    ] = None,
    sort: CreatedSort = CreatedSort.CREATED_AT,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> SubscriptionList:
    with cursor_problems():
        page = repository.subscription_page(
            active=active, sort=Sort.parse(sort.value), cursor=cursor, limit=limit
        )
    return SubscriptionList(
        items=[SubscriptionOut.of(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get("/{subscription_id}", summary="Get a webhook subscriber", responses={404: {}})
def get_subscription(
    subscription_id: SubscriptionId, _: AdminKey, repository: WebhookRepositoryDep
) -> SubscriptionOut:
    return SubscriptionOut.of(_found(repository, subscription_id))


@router.get(
    "/{subscription_id}/deliveries",
    summary="Recent deliveries to a subscriber (state, attempts, last status)",
    responses={404: {}},
)
def list_deliveries(
    subscription_id: SubscriptionId,
    _: AdminKey,
    repository: WebhookRepositoryDep,
    state: WebhookDeliveryState | None = None,
    event_type: EventType | None = None,
    sort: CreatedSort = CreatedSort.CREATED_AT_DESC,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> DeliveryList:
    _found(repository, subscription_id)
    with cursor_problems():
        page = repository.delivery_page(
            subscription_id,
            state=state.value if state else None,
            event_type=event_type.value if event_type else None,
            sort=Sort.parse(sort.value),
            cursor=cursor,
            limit=limit,
        )
    return DeliveryList(
        items=[DeliveryOut.model_validate(r, from_attributes=True) for r in page.items],
        next_cursor=page.next_cursor,
    )


@router.delete(
    "/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a webhook subscriber (its undelivered events are dropped)",
    responses={404: {}},
)
def delete_subscription(
    subscription_id: SubscriptionId, _: AdminKey, repository: WebhookRepositoryDep
) -> Response:
    if not repository.remove(subscription_id):
        raise ProblemError(404, f"no subscription with id {subscription_id}", kind="not-found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
