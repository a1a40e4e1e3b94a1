"""Body of `GET /v1/reports/{metric}` (the report read model, with an example)."""

from __future__ import annotations

from pydantic import ConfigDict

from service.usecases.reports import Report


class ReportOut(Report):
    """A metric per group over a time window, each group with n and a confidence interval."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "metric": "nps",
                    "unit": "NPS, -100..100 (% promoters - % detractors)",
                    "group_by": "period",
                    "period": "quarter",
                    "from": "2026-01-01T00:00:00Z",
                    "to": "2027-01-01T00:00:00Z",
                    "confidence": 0.95,
                    "min_n": 30,
                    "overall": {
                        "group": "all",
                        "n": 412,
                        "sufficient": True,
                        "value": 21.6,
                        "ci_low": 14.2,
                        "ci_high": 29.0,
                        "counts": {"promoters": 171, "passives": 147, "detractors": 94},
                        "secondary": {},
                        "note": "",
                    },
                    "groups": [
                        {
                            "group": "2026-Q3",
                            "n": 140,
                            "sufficient": True,
                            "value": 17.1,
                            "ci_low": 4.4,
                            "ci_high": 29.9,
                            "counts": {"promoters": 55, "passives": 54, "detractors": 31},
                            "secondary": {},
                            "note": "",
                        },
                        {
                            "group": "2026-Q4",
                            "n": 12,
                            "sufficient": False,
                            "value": None,
                            "ci_low": None,
                            "ci_high": None,
                            "counts": {},
                            "secondary": {},
                            "note": "too few answers: 12 < 30",
                        },
                    ],
                }
            ]
        }
    )
