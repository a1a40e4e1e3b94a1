"""The default deal and ticket pipelines of a fresh portal, read-only.

Deal stage ids are HubSpot's internal names (``closedwon`` ...) in the ``default`` pipeline;
the support pipeline ``0`` has stages ``1``-``4`` (New, Waiting on contact, Waiting on us,
Closed; docs/crm-api-facts.md §3.3 marks these ids unverified). The same ids are the allowed options
of ``dealstage``/``pipeline`` and ``hs_pipeline``/``hs_pipeline_stage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Stage:
    """One pipeline stage; ``metadata`` values are strings, as the API sends them."""

    id: str
    label: str
    metadata: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Pipeline:
    """A pipeline and its ordered stages."""

    id: str
    label: str
    stages: tuple[Stage, ...]

    def to_json(self, created_at: str) -> dict[str, Any]:
        """``Pipeline`` as the pipelines API returns it."""
        return {
            "id": self.id,
            "label": self.label,
            "displayOrder": 0,
            "stages": [stage_json(s, i, created_at) for i, s in enumerate(self.stages)],
            "createdAt": created_at,
            "updatedAt": created_at,
            "archived": False,
        }


def stage_json(stage: Stage, order: int, created_at: str) -> dict[str, Any]:
    """``PipelineStage`` as the pipelines API returns it."""
    return {
        "id": stage.id,
        "label": stage.label,
        "displayOrder": order,
        "metadata": dict(stage.metadata),
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        "createdAt": created_at,
        "updatedAt": created_at,
        "archived": False,
    }


def _deal(stage_id: str, label: str, probability: str) -> Stage:
    closed = "true" if probability in ("0.0", "1.0") else "false"
    return Stage(stage_id, label, (("isClosed", closed), ("probability", probability)))


def _ticket(stage_id: str, label: str, state: str) -> Stage:
    return Stage(stage_id, label, (("ticketState", state),))


PIPELINES: dict[str, tuple[Pipeline, ...]] = {
    "deals": (
        Pipeline(
            "default",
            "Sales Pipeline",
            (
                _deal("appointmentscheduled", "Appointment Scheduled", "0.2"),
                _deal("qualifiedtobuy", "Qualified To Buy", "0.4"),
                _deal("presentationscheduled", "Presentation Scheduled", "0.6"),
                _deal("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
                _deal("contractsent", "Contract Sent", "0.9"),
                _deal("closedwon", "Closed Won", "1.0"),
                _deal("closedlost", "Closed Lost", "0.0"),
            ),
        ),
    ),
    "tickets": (
        Pipeline(
            "0",
            "Support Pipeline",
            (
                _ticket("1", "New", "OPEN"),
                _ticket("2", "Waiting on contact", "OPEN"),
                _ticket("3", "Waiting on us", "OPEN"),
                _ticket("4", "Closed", "CLOSED"),
            ),
        ),
    ),
}


def pipeline_options() -> dict[tuple[str, str], tuple[str, ...]]:
    """Allowed values of the pipeline and stage properties, from the pipelines above."""
    deals, tickets = PIPELINES["deals"], PIPELINES["tickets"]
    return {
        ("deals", "pipeline"): tuple(p.id for p in deals),
        ("deals", "dealstage"): tuple(s.id for p in deals for s in p.stages),
        ("tickets", "hs_pipeline"): tuple(p.id for p in tickets),
        ("tickets", "hs_pipeline_stage"): tuple(s.id for p in tickets for s in p.stages),
    }
