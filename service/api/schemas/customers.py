"""Bodies of `GET /v1/customers` and `GET /v1/customers/{id}` (the read models, with examples)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from service.usecases.customer_view import CustomerProfileView, CustomerSummary

_ID = "3f6c2a1b9d8e4f70a1b2c3d4e5f60718"
_CUSTOMER: dict[str, JsonValue] = {
    "id": _ID,
    "display_name": "Nguyễn Thị Lan",
    "email": "lan.nguyen@example.vn",
    "language": "vi",
    "owner": "0055g00000A1b2C",
    "segment": "at_risk",
    "experience_score": 38.4,
    "churn_risk": 0.71,
    "churn_flag": True,
    "nps_class": "detractor",
    "scored_at": "2026-11-22T16:00:00Z",
    "created_at": "2026-02-03T09:12:00Z",
    "updated_at": "2026-11-22T16:00:02Z",
}


class CustomerSort(StrEnum):
    """Sort orders of the customer list; `-` = descending. Unscored customers come last."""

    EXPERIENCE_SCORE = "experience_score"
    EXPERIENCE_SCORE_DESC = "-experience_score"
    CHURN_RISK = "churn_risk"
    CHURN_RISK_DESC = "-churn_risk"
    UPDATED_AT = "updated_at"
    UPDATED_AT_DESC = "-updated_at"
    NAME = "display_name"
    NAME_DESC = "-display_name"


class CustomerPage(BaseModel):
    """One page of customers."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_CUSTOMER], "next_cursor": "WyItY2h1cm4..."}]}
    )

    items: list[CustomerSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")


class CustomerProfileOut(CustomerProfileView):
    """One customer's full profile."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer": _CUSTOMER,
                    "crm_records": [
                        {"connection": "acme-sf", "crm_object": "Contact", "crm_id": "0035g0A"}
                    ],
                    "account_ids": ["9a8b7c6d5e4f40312233445566778899"],
                    "loyalty_stage": "at_risk",
                    "experience": {
                        "subject_id": _ID,
                        "as_of": "2026-11-22T16:00:00Z",
                        "score": 38.4,
                        "baseline": 50.0,
                        "contributions": [
                            {
                                "factor": "sentiment",
                                "points": -9.1,
                                "subscore": 0.18,
                                "weight": 0.2,
                                "evidence": "2 negative chats of 3 messages",
                                "count": 3,
                            }
                        ],
                        "confidence": 0.85,
                        "input_counts": {"surveys": 2, "interactions": 3, "cases": 1},
                        "scoring_version": "2026.11",
                    },
                    "factor_labels": {"sentiment": "message sentiment"},
                    "churn": {
                        "customer_id": _ID,
                        "as_of": "2026-11-22T16:00:00Z",
                        "horizon_days": 90,
                        "probability": 0.71,
                        "model": "bg_nbd",
                        "segment": "repeat",
                        "flagged": True,
                        "threshold": 0.5,
                        "drivers": [
                            {
                                "name": "recency",
                                "text": "Usually buys every ~5 weeks; last purchase 29 weeks ago",
                                "impact": 0.4,
                            }
                        ],
                        "warnings": ["negative sentiment in the last 2 messages"],
                        "scoring_version": "2026.11",
                    },
                    "churn_note": "",
                    "sentiment_trend": [
                        {
                            "period": "2026-11",
                            "n": 3,
                            "mean": -0.42,
                            "ci_low": -1.0,
                            "ci_high": 0.61,
                            "negative": 2,
                        }
                    ],
                    "aspects": [
                        {
                            "aspect": "delivery",
                            "mentions": 2,
                            "negative": 2,
                            "positive": 0,
                            "neutral": 0,
                            "mean_score": -0.6,
                            "last_mentioned_at": "2026-11-20T08:00:00Z",
                        }
                    ],
                    "open_actions": [
                        {
                            "playbook": "detractor_call",
                            "connection": "acme-sf",
                            "crm_task_id": "00T5g00000XyZ",
                            "created_at": "2026-11-22T16:00:03Z",
                            "subject": "Gọi lại cho khách hàng trong 48 giờ",
                            "why": "Khách hàng cho điểm NPS 3",
                            "priority": "high",
                            "due_at": "2026-11-24T16:00:00Z",
                        }
                    ],
                    "history": {
                        "scores": [
                            {
                                "as_of": "2026-11-22T16:00:00Z",
                                "experience_score": 38.4,
                                "churn_risk": 0.71,
                                "churn_flag": True,
                                "nps_class": "detractor",
                            }
                        ],
                        "surveys": [
                            {
                                "kind": "nps",
                                "value": 3,
                                "scale": [0, 10],
                                "touchpoint": "delivery",
                                "channel": "email",
                                "occurred_at": "2026-11-19T10:00:00Z",
                            }
                        ],
                        "counts": {"interactions": 3, "surveys": 2, "cases": 1, "transactions": 6},
                        "last_activity_at": "2026-11-20T08:00:00Z",
                    },
                }
            ]
        }
    )
