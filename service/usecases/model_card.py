"""The churn model card as people and clients read it: `GET /v1/models/churn`, `cem models show`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.store.churn_models import StoredChurnModel


class Driver(BaseModel):
    """A feature and how much it moves the risk on the out-of-time test: the mean |change in
    log-odds| when it is set to its typical value."""

    feature: str
    importance: float


class ChurnModelCard(BaseModel):
    """What the last `churn-train` run of a connection learnt and whether scoring uses it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "connection": "acme-sf",
                    "trained_at": "2026-12-07T02:00:00Z",
                    "in_use": True,
                    "judged_by": "labelled",
                    "reason": "gradient_boosting chosen on calibration log-loss; out-of-time "
                    "ROC-AUC 0.861 against the label-free model's 0.702: scoring uses it",
                    "label_source": "the CRM's churn status and closed renewals",
                    "model_kind": "gradient_boosting",
                    "horizon_days": 90,
                    "base_rate": 0.141,
                    "roc_auc": 0.861,
                    "pr_auc": 0.71,
                    "ece": 0.018,
                    "brier": 0.09,
                    "label_free_roc_auc": 0.702,
                    "features": ["crm_plan", "n_contact_frequency", "weeks_since_purchase"],
                    "top_drivers": [{"feature": "n_contact_frequency", "importance": 0.41}],
                    "threshold": 0.38,
                    "threshold_rule": "riskiest 10% of buyers",
                    "n_train": 3000,
                    "n_test": 1000,
                    "test_window": ["2026-06-01", "2026-09-01"],
                    "survival_plans": ["basic", "pro"],
                }
            ]
        }
    )

    connection: str
    trained_at: datetime
    in_use: bool = Field(description="Whether scoring judges churn by this model now.")
    judged_by: str = Field(
        description="`labelled` when this model judges, else `label_free` (BG/NBD for buyers, "
        "Kaplan-Meier for subscribers); every flag's drivers say the same."
    )
    reason: str
    label_source: str | None = None
    model_kind: str | None = None
    horizon_days: int | None = None
    base_rate: float | None = Field(default=None, description="Churn rate in the test period.")
    roc_auc: float | None = None
    pr_auc: float | None = None
    ece: float | None = Field(default=None, description="Expected calibration error, 10 bins.")
    brier: float | None = None
    label_free_roc_auc: float | None = Field(
        default=None, description="The purchase-pattern model's ROC-AUC on the same test rows."
    )
    features: list[str] = Field(default_factory=list)
    top_drivers: list[Driver] = Field(default_factory=list)
    threshold: float | None = None
    threshold_rule: str | None = None
    n_train: int | None = None
    n_test: int | None = None
    test_window: list[str] | None = None
    survival_plans: list[str] = Field(
        default_factory=list, description="Plans with their own Kaplan-Meier curve."
    )

    @classmethod
    def of(cls, stored: StoredChurnModel) -> ChurnModelCard:
        card: dict[str, Any] = stored.card
        metrics: dict[str, Any] = card.get("metrics") or {}
        threshold: dict[str, Any] = card.get("threshold") or {}
        drivers = card.get("top_drivers") or []
        return cls(
            connection=stored.connection,
            trained_at=stored.trained_at,
            in_use=stored.in_use,
            judged_by="labelled" if stored.in_use else "label_free",
            reason=stored.reason,
            label_source=card.get("label_source"),
            model_kind=card.get("model_kind"),
            horizon_days=card.get("horizon_days"),
            base_rate=card.get("base_rate_test"),
            roc_auc=metrics.get("roc_auc"),
            pr_auc=metrics.get("pr_auc"),
            ece=metrics.get("ece"),
            brier=metrics.get("brier"),
            label_free_roc_auc=card.get("label_free_roc_auc"),
            features=list(card.get("features") or []),
            top_drivers=[_driver(d) for d in drivers],
            threshold=threshold.get("threshold"),
            threshold_rule=threshold.get("rule"),
            n_train=card.get("n_train"),
            n_test=card.get("n_test"),
            test_window=list(card["test_window"]) if card.get("test_window") else None,
            survival_plans=sorted((stored.survival or {}).get("by_plan", {})),
        )

    def as_text(self) -> str:
        """The card for a terminal: a few lines a CX lead can read."""

        def num(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3f}"

        lines = [
            f"connection   {self.connection} (trained {self.trained_at:%Y-%m-%d %H:%M} UTC)",
            f"judged by    {self.judged_by}: {self.reason}",
            f"labels       {self.label_source or 'none'}",
        ]
        if self.model_kind is not None:
            lines += [
                f"model        {self.model_kind}, horizon {self.horizon_days} days, "
                f"{self.n_train} rows to learn, {self.n_test} to test "
                f"({' .. '.join(self.test_window or [])})",
                f"out of time  ROC-AUC {num(self.roc_auc)}  PR-AUC {num(self.pr_auc)}  "
                f"ECE {num(self.ece)}  Brier {num(self.brier)}  base rate {num(self.base_rate)}",
                f"label-free   ROC-AUC {num(self.label_free_roc_auc)} on the same rows",
                f"flag         p >= {num(self.threshold)} ({self.threshold_rule})",
                "drivers      "
                + (", ".join(f"{d.feature} {d.importance:.3f}" for d in self.top_drivers) or "-"),
            ]
        if self.survival_plans:
            lines.append(f"survival     per plan: {', '.join(self.survival_plans)}")
        return "\n".join(lines)


def _driver(value: dict[str, Any]) -> Driver:
    """A stored `GlobalDriver` (name, mean |log-odds change|) as the card shows it."""
    return Driver(feature=str(value["name"]), importance=float(value["mean_abs_impact"]))
