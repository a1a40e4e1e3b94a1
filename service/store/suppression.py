"""The suppression list: CRM records of erased customers, which the pull must not import again.

An entry is an HMAC-SHA256 of (connection, CRM id), never the id: the list must not say whom it
names. A plain hash would not do that for ids from a small space (HubSpot contact ids are short
numbers: hashing every one of them takes minutes), so the hash is keyed:

- `CEM_SUPPRESSION_KEY` (32+ characters; also from a mounted secret file) is the key. Kept
  outside the database, a copy of the database alone reveals nothing.
- Unset, the service does not refuse erasures (an erasure is a legal duty): it generates a random
  key once and keeps it in the `install_keys` table. That still defeats
  precomputed tables, and hashing every id needs that installation's key, but whoever has a copy
  of the database has the key too; set CEM_SUPPRESSION_KEY in production. (The key is made on
  the first erasure, and logged at INFO then, once per installation.)
- Entries made under an earlier scheme still match: `sha256` (the unkeyed list that lived in
  `audit_log` before migration 0007) and `hmac-db` (the generated key, before a key was set).
  An entry matched under an earlier scheme is rewritten under the current one on the spot (only
  then is the CRM id at hand to compute it).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from service.store.database import session_scope
from service.store.tables import InstallKey, Suppression

log = logging.getLogger(__name__)

CONFIGURED = "hmac"  # HMAC-SHA256 under CEM_SUPPRESSION_KEY
GENERATED = "hmac-db"  # HMAC-SHA256 under the key generated into `install_keys`
LEGACY = "sha256"  # plain SHA-256 (before migration 0007)
KEY_NAME = "suppression"


def _message(connection: str, crm_id: str) -> bytes:
    return f"{connection}\x1f{crm_id}".encode()


def legacy_key(connection: str, crm_id: str) -> str:
    """The unkeyed hash the list used before 0007 (still matched, never written)."""
    return hashlib.sha256(_message(connection, crm_id)).hexdigest()


def keyed(secret: bytes, connection: str, crm_id: str) -> str:
    return hmac.new(secret, _message(connection, crm_id), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SuppressedRecord:
    connection: str
    crm_object: str
    crm_id: str


class SuppressionList:
    """Adds and matches entries; `secret` is CEM_SUPPRESSION_KEY (None: the generated key)."""

    def __init__(self, engine: Engine, secret: str | None = None) -> None:
        self._engine = engine
        self._configured = secret.encode() if secret else None
        self._generated: bytes | None = None

    def _generated_key(self, create: bool) -> bytes | None:
        if self._generated is not None:
            return self._generated
        with Session(self._engine) as session:
            row = session.get(InstallKey, KEY_NAME)
        if row is None and create:
            # Once per installation (the key is then in the database), so INFO: a warning here
            # would land in every erasure's output; docs/security.md tells operators to set it.
            log.info(
                "CEM_SUPPRESSION_KEY is not set: the suppression list is keyed with a key kept "
                "in the database; set CEM_SUPPRESSION_KEY (32+ characters) to keep it apart"
            )
            try:
                with session_scope(self._engine) as session:
                    session.add(InstallKey(name=KEY_NAME, value=secrets.token_hex(32)))
            except IntegrityError:  # another process made it first
                pass
            with Session(self._engine) as session:
                row = session.get(InstallKey, KEY_NAME)
        if row is not None:
            self._generated = row.value.encode()
        return self._generated

    def _schemes(self, create: bool) -> list[tuple[str, bytes | None]]:
        """(scheme, key) to match with, the one new entries are written under first."""
        generated = self._generated_key(create=create and self._configured is None)
        schemes: list[tuple[str, bytes | None]] = []
        if self._configured is not None:
            schemes.append((CONFIGURED, self._configured))
        if generated is not None:
            schemes.append((GENERATED, generated))
        schemes.append((LEGACY, None))
        return schemes

    @staticmethod
    def _digest(scheme: str, key: bytes | None, connection: str, crm_id: str) -> str:
        return legacy_key(connection, crm_id) if key is None else keyed(key, connection, crm_id)

    def add(self, records: Iterable[SuppressedRecord], job_id: str | None) -> int:
        """Suppress the records (idempotent; an entry of an earlier scheme is upgraded)."""
        wanted = list(records)
        if not wanted:
            return 0
        schemes = self._schemes(create=True)
        scheme, key = schemes[0]
        added = 0
        for connection in sorted({r.connection for r in wanted}):
            matcher = self.matcher(connection, schemes)
            with session_scope(self._engine) as session:
                for record in (r for r in wanted if r.connection == connection):
                    if matcher.matches(record.crm_id):
                        continue
                    session.add(
                        Suppression(
                            connection=connection,
                            key=self._digest(scheme, key, connection, record.crm_id),
                            scheme=scheme,
                            crm_object=record.crm_object,
                            job_id=job_id,
                        )
                    )
                    added += 1
            matcher.upgrade()
        return added

    def matcher(
        self, connection: str, schemes: list[tuple[str, bytes | None]] | None = None
    ) -> Matcher:
        """Matches CRM ids of one connection against its entries (loaded once: a small set)."""
        with Session(self._engine) as session:
            rows = session.exec(
                select(Suppression.key, Suppression.scheme).where(
                    Suppression.connection == connection
                )
            ).all()
        entries = {(scheme, key) for key, scheme in rows}
        if not entries:  # the common case: nothing to match, no key to read
            return Matcher(self._engine, connection, entries, [(LEGACY, None)])
        return Matcher(self._engine, connection, entries, schemes or self._schemes(create=False))


class Matcher:
    """`matches(crm_id)`; `upgrade()` rewrites the entries it matched under an older scheme."""

    def __init__(
        self,
        engine: Engine,
        connection: str,
        entries: set[tuple[str, str]],
        schemes: list[tuple[str, bytes | None]],
    ) -> None:
        self._engine = engine
        self._connection = connection
        self._entries = entries
        present = {scheme for scheme, _ in entries}
        self._current = schemes[0]
        self._schemes = [s for s in schemes if s[0] in present]
        self._stale: dict[str, str] = {}  # old key -> new key

    def __bool__(self) -> bool:
        return bool(self._entries)

    def matches(self, crm_id: str) -> bool:
        for scheme, key in self._schemes:
            digest = SuppressionList._digest(scheme, key, self._connection, crm_id)
            if (scheme, digest) in self._entries:
                if scheme != self._current[0] and self._current[0] != LEGACY:
                    current, secret = self._current
                    new = SuppressionList._digest(current, secret, self._connection, crm_id)
                    self._stale[digest] = new
                return True
        return False

    def upgrade(self) -> int:
        """Rewrite matched older-scheme entries under the current key; how many."""
        if not self._stale:
            return 0
        scheme = self._current[0]
        with session_scope(self._engine) as session:
            for old, new in self._stale.items():
                row = session.exec(
                    select(Suppression).where(
                        Suppression.connection == self._connection, Suppression.key == old
                    )
                ).first()
                duplicate = session.exec(
                    select(Suppression.id).where(
                        Suppression.connection == self._connection, Suppression.key == new
                    )
                ).first()
                if row is None:
                    continue
                if duplicate is not None:
                    session.delete(row)
                else:
                    row.key, row.scheme = new, scheme
                    session.add(row)
                self._entries = {e for e in self._entries if e[1] != old} | {(scheme, new)}
        count = len(self._stale)
        self._stale = {}
        return count
