"""The owners directory behind ``/crm/v3/owners/`` (staff who own records; ids are strings)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class OwnerEntry:
    """One owner (a HubSpot user); ``user_id`` differs from the owner id, as on HubSpot."""

    id: int
    user_id: int
    email: str
    first_name: str
    last_name: str
    created_at: str
    archived: bool = False

    def to_json(self) -> dict[str, Any]:
        """``PublicOwner``."""
        return {
            "id": str(self.id),
            "email": self.email,
            "type": "PERSON",
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userId": self.user_id,
            "userIdIncludingInactive": self.user_id,
            "createdAt": self.created_at,
            "updatedAt": self.created_at,
            "archived": self.archived,
            "teams": [],
        }


class OwnerDirectory:
    """Owners by id, in id order; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[int, OwnerEntry] = {}
        self._next_id = 70_000_001

    def add(self, email: str, first_name: str, last_name: str, created_at: str) -> OwnerEntry:
        """Create an owner and return it."""
        with self._lock:
            owner_id = self._next_id
            self._next_id += 1
            entry = OwnerEntry(
                owner_id, owner_id - 60_000_000, email, first_name, last_name, created_at
            )
            self._owners[owner_id] = entry
            return entry

    def get(self, owner_id: int) -> OwnerEntry | None:
        """One owner or None."""
        with self._lock:
            return self._owners.get(owner_id)

    def page(
        self, after: int | None, limit: int, email: str | None, archived: bool
    ) -> tuple[list[OwnerEntry], int | None]:
        """One page of owners with id > ``after``; the next cursor or None."""
        with self._lock:
            matches = [
                o
                for o in self._owners.values()
                if o.archived == archived
                and (email is None or o.email.lower() == email.lower())
                and (after is None or o.id > after)
            ]
        page = matches[:limit]
        return page, (page[-1].id if len(matches) > limit else None)

    def clear(self) -> None:
        """Forget every owner."""
        with self._lock:
            self._owners.clear()
            self._next_id = 70_000_001
