"""API keys: created once (the full key is shown only then), stored as a SHA-256 hash.

A key looks like `cem_<id>_<secret>`. The id is public (it names the key in lists and logs); the
secret is 32 random bytes. Because the secret is high-entropy, a fast hash is the right tool
(as for GitHub or Stripe tokens); a password KDF would only slow every request down.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from service.store.database import session_scope
from service.store.paging import Sort, keyset_page
from service.store.tables import ApiKey

OLDEST_FIRST = Sort("created_at", descending=False)

KEY_PREFIX = "cem_"
TOUCH_EVERY_SECONDS = 60
# A verified key is trusted this long without a database read. A revocation made in this process
# (API or CLI) takes effect at once; one made by another process within this many seconds.
VERIFIED_KEY_SECONDS = 5.0
VERIFIED_KEY_LIMIT = 1024


class Scope(StrEnum):
    """What a key may do; each scope includes the ones before it (admin ⊃ write ⊃ read)."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


_RANK = {Scope.READ: 1, Scope.WRITE: 2, Scope.ADMIN: 3}


def grants(scopes: list[str], needed: Scope) -> bool:
    """True when any of `scopes` is at least `needed`."""
    return any(s in _RANK and _RANK[Scope(s)] >= _RANK[needed] for s in scopes)


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key (never its hash)."""

    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class NewKey:
    info: KeyInfo
    key: str  # shown once, never stored

    def __repr__(self) -> str:
        return f"NewKey(info={self.info!r}, key='{KEY_PREFIX}{self.info.id}_…')"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _info(row: ApiKey) -> KeyInfo:
    return KeyInfo(
        row.id, row.name, list(row.scopes), row.created_at, row.revoked_at, row.last_used_at
    )


class _VerifiedKeys:
    """Keys that passed `authenticate` recently, by (database, key hash), for the hot path.

    Process-wide, so revoking through any repository of this process drops the key at once.
    Bounded (least recently verified out first); only valid keys are kept, so unknown keys cannot
    fill it. Keyed by the key's hash: the cache never holds a key.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: OrderedDict[tuple[str, str], tuple[KeyInfo, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, where: tuple[str, str], now: float) -> KeyInfo | None:
        with self._lock:
            found = self._items.get(where)
            if found is None:
                return None
            if found[1] <= now:
                del self._items[where]
                return None
            return found[0]

    def put(self, where: tuple[str, str], info: KeyInfo, expires: float) -> None:
        with self._lock:
            self._items[where] = (info, expires)
            self._items.move_to_end(where)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def drop(self, database: str, key_id: str) -> None:
        with self._lock:
            stale = [w for w, (i, _) in self._items.items() if w[0] == database and i.id == key_id]
            for where in stale:
                del self._items[where]


_VERIFIED = _VerifiedKeys(VERIFIED_KEY_LIMIT)


class ApiKeyRepository:
    """Create, list, revoke and check API keys."""

    def __init__(
        self,
        engine: Engine,
        verified_seconds: float = VERIFIED_KEY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._database = engine.url.render_as_string(hide_password=True)
        self._verified_seconds = verified_seconds
        self._clock = clock
        self._touched: dict[str, datetime] = {}

    def create(self, name: str, scopes: list[Scope]) -> NewKey:
        if not name.strip():
            raise ValueError("a key needs a name")
        if not scopes:
            raise ValueError("a key needs at least one scope")
        key_id = secrets.token_hex(6)
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_hex(32)}"
        row = ApiKey(
            id=key_id, name=name.strip(), key_hash=_hash(key), scopes=[s.value for s in scopes]
        )
        with session_scope(self._engine) as session:
            session.add(row)
            session.flush()
            info = _info(row)
        return NewKey(info=info, key=key)

    def list(self, *, include_revoked: bool = False) -> list[KeyInfo]:
        with Session(self._engine) as session:
            query = select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.id))
            if not include_revoked:
                query = query.where(col(ApiKey.revoked_at).is_(None))
            return [_info(row) for row in session.exec(query)]

    def page(
        self,
        *,
        include_revoked: bool = False,
        sort: Sort = OLDEST_FIRST,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[Sequence[KeyInfo], str | None]:
        """A page of keys and the next page's cursor (`BadCursorError` for a foreign cursor)."""
        query = select(ApiKey)
        if not include_revoked:
            query = query.where(col(ApiKey.revoked_at).is_(None))
        with Session(self._engine) as session:
            page = keyset_page(
                session,
                query,
                sort=sort,
                columns={"created_at": col(ApiKey.created_at)},
                id_column=col(ApiKey.id),
                cursor=cursor,
                limit=limit,
            )
        return [_info(row) for row in page.items], page.next_cursor

    def revoke(self, key_id: str) -> KeyInfo | None:
        """Revoke a key; returns None when there is no such key. Revoking twice is harmless."""
        with session_scope(self._engine) as session:
            row = session.get(ApiKey, key_id)
            if row is None:
                return None
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
                session.add(row)
            session.flush()
            info = _info(row)
        _VERIFIED.drop(self._database, key_id)
        return info

    def recently_verified(self, key: str) -> KeyInfo | None:
        """The key's info when `authenticate` accepted it within the last few seconds (no I/O),
        else None: then ask `authenticate`."""
        return _VERIFIED.get((self._database, _hash(key)), self._clock())

    def authenticate(self, key: str) -> KeyInfo | None:
        """The key's info when it is valid and not revoked, else None (constant-time compare)."""
        if not key.startswith(KEY_PREFIX) or key.count("_") < 2:
            return None
        key_id = key[len(KEY_PREFIX) :].split("_", 1)[0]
        hashed = _hash(key)
        with Session(self._engine) as session:
            row = session.get(ApiKey, key_id)
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.key_hash, hashed):
                return None
            info = _info(row)
        if self._verified_seconds > 0:
            expires = self._clock() + self._verified_seconds
            _VERIFIED.put((self._database, hashed), info, expires)
        return info

    def touch_due(self, key_id: str, at: datetime) -> bool:
        """Whether `touch` would write (no I/O): lets the hot path skip a thread hop."""
        last = self._touched.get(key_id)
        return last is None or (at - last).total_seconds() > TOUCH_EVERY_SECONDS

    def touch(self, key_id: str, at: datetime) -> None:
        """Record that a key was used (best effort, at most once a minute per key)."""
        # Remembered in memory too, so the hot path skips the database between writes.
        if not self.touch_due(key_id, at):
            return
        self._touched[key_id] = at
        with session_scope(self._engine) as session:
            row = session.get(ApiKey, key_id)
            if row is not None and (
                row.last_used_at is None
                or (at - row.last_used_at).total_seconds() > TOUCH_EVERY_SECONDS
            ):
                row.last_used_at = at
                session.add(row)
