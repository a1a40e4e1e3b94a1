"""Body of `GET /v1/accounts/{id}` (the roll-up read model, with an example)."""

from __future__ import annotations

from pydantic import ConfigDict

from service.usecases.customer_view import AccountView


class AccountOut(AccountView):
    """An account's roll-up of its contacts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9a8b7c6d5e4f40312233445566778899",
                    "name": "Công ty TNHH Sao Mai",
                    "domain": "saomai.example.vn",
                    "crm_records": [
                        {"connection": "acme-sf", "crm_object": "Account", "crm_id": "0015g0B"}
                    ],
                    "experience": {
                        "subject_id": "9a8b7c6d5e4f40312233445566778899",
                        "as_of": "2026-11-22T16:05:00Z",
                        "score": 47.2,
                        "baseline": 50.0,
                        "contributions": [
                            {
                                "factor": "contact:3f6c2a1b9d8e4f70a1b2c3d4e5f60718",
                                "points": -4.1,
                                "subscore": 0.384,
                                "weight": 7.9,
                                "evidence": "Nguyễn Thị Lan (decision_maker), score 38, "
                                "last active 2 days ago",
                                "count": 1,
                            }
                        ],
                        "confidence": 0.8,
                        "input_counts": {"contacts": 3, "scored_contacts": 2},
                        "scoring_version": "2026.11",
                    },
                    "churn": {
                        "scored_contacts": 2,
                        "flagged_contacts": 1,
                        "mean_risk": 0.52,
                        "max_risk": 0.71,
                    },
                    "surveys": {
                        "nps": {
                            "metric": "nps",
                            "group": "account",
                            "value": None,
                            "n": 4,
                            "sufficient": False,
                            "note": "too few answers: 4 < 30",
                        }
                    },
                    "open_actions": 1,
                    "contacts": [],
                }
            ]
        }
    )
