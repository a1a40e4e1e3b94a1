"""Fields Salesforce computes itself: compound names, auto numbers, closed/won flags.

Applied on every write so reads and SOQL filters see the same values the real org would.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.salesforce.schema import ObjectDef
    from sandbox.salesforce.store import SalesforceStore

_PERSON_OBJECTS = frozenset({"Contact", "Lead", "User"})
# Auto-number formats of the standard objects (Case "00001001", Order "00000100").
_AUTO_NUMBER = {
    "Case": ("CaseNumber", "{:08d}", 1001),
    "Order": ("OrderNumber", "{:08d}", 100),
    "Survey_Response__c": ("Name", "SR-{:07d}", 1),
}


class AutoNumbers:
    """Per-object auto-number counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, int] = {}

    def take(self, object_name: str) -> str | None:
        """The next number for `object_name`, formatted, or None when it has no auto number."""
        spec = _AUTO_NUMBER.get(object_name)
        if spec is None:
            return None
        _, pattern, start = spec
        with self._lock:
            number = self._next.get(object_name, start)
            self._next[object_name] = number + 1
        return pattern.format(number)


def derive(
    store: SalesforceStore, obj: ObjectDef, record: dict[str, Any], old: dict[str, Any]
) -> None:
    """Recompute the derived fields of `record` in place (`old` is empty on create)."""
    name = obj.name
    if not old and name in _AUTO_NUMBER:
        field_name = _AUTO_NUMBER[name][0]
        if record.get(field_name) is None:
            record[field_name] = store.autonumbers.take(name)
    if name in _PERSON_OBJECTS:
        parts = (record.get("FirstName"), record.get("LastName"))
        record["Name"] = " ".join(p for p in parts if p)
    elif name == "Opportunity":
        stage = record.get("StageName") or ""
        record["IsClosed"] = stage.startswith("Closed")
        record["IsWon"] = stage == "Closed Won"
    elif name == "Case":
        closed = record.get("Status") == "Closed"
        if closed and not record.get("IsClosed") and record.get("ClosedDate") is None:
            record["ClosedDate"] = record.get("LastModifiedDate")
        if not closed:
            record["ClosedDate"] = None
        record["IsClosed"] = closed
    elif name == "Task":
        record["IsClosed"] = record.get("Status") == "Completed"
        record["AccountId"] = _task_account(store, record)


def _task_account(store: SalesforceStore, record: dict[str, Any]) -> str | None:
    # Task.AccountId is read-only: the What when it is an Account, else the Who contact's account.
    what = record.get("WhatId")
    if isinstance(what, str) and what.startswith("001"):
        return what
    who = record.get("WhoId")
    if isinstance(who, str) and who.startswith("003"):
        found = store.get_any(who)
        if found is not None:
            account = found[1].get("AccountId")
            return account if isinstance(account, str) else None
    return None
