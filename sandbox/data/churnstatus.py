"""An optional churn status per contact, as account managers record it in a real CRM.

Off by default (`cem sandbox serve --churn-status`, `emulator.load(..., churn_status=...)`):
the default org has no such field, so tests, the demo and benchmarks that do not ask for it see
the same org as before. When on, every contact gets a status from the generator's hidden truth:

* "Churned", dated by the day the person stopped buying, when that happened before the
  sandbox's "now" (a CRM cannot know about a cancellation that has not happened yet);
* "Active", with no date, for everyone else — as in most CRMs, where the status of a retained
  customer carries no date of its own.

Each emulator stores it its own way: Salesforce `Contact.Churn_Status__c` (picklist) and
`Contact.Churn_Date__c` (date) created through the Tooling API's CustomField; HubSpot contact
properties `churn_status` (enumeration, values `active`/`churned`) and `churn_date` (date).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sandbox.data.model import Truth

ACTIVE = "Active"
CHURNED = "Churned"


@dataclass(frozen=True, slots=True)
class ChurnStatus:
    """A contact's status as the CRM shows it: `label` (Active/Churned) and its date, if any."""

    churned: bool
    on: date | None

    @property
    def label(self) -> str:
        """The picklist value."""
        return CHURNED if self.churned else ACTIVE


def churn_statuses(truths: Iterable[Truth], now: datetime) -> dict[str, ChurnStatus]:
    """Status per generated person id: churned (with its date) only for churn before `now`."""
    out: dict[str, ChurnStatus] = {}
    for truth in truths:
        gone = truth.churned and truth.churned_at is not None and truth.churned_at <= now
        out[truth.person_id] = ChurnStatus(
            churned=gone, on=truth.churned_at.date() if gone and truth.churned_at else None
        )
    return out
