"""The push ledger: what we last wrote to each field of each CRM record.

Before a push, `unchanged()` drops fields whose value hash matches the ledger, so an unchanged
value costs no API call; after the CRM confirms a write, `record()` stores the new hashes. A
write the CRM refused is never recorded, so the next run tries it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, tuple_
from sqlmodel import Session, col, select

from service.ports import FieldUpdate, FieldValue
from service.store.database import session_scope
from service.store.tables import PushLedger, utcnow
from service.store.upserts import table_of, upsert_rows

# SQLite allows 32,766 bound parameters; 4 per key keeps a lookup well inside it.
_CHUNK = 500


def value_hash(value: FieldValue) -> str:
    """A stable hash of a field value (type-aware: 1 and "1" and True differ)."""
    plain = value.isoformat() if isinstance(value, datetime) else value
    canonical = json.dumps([type(value).__name__, plain], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class RecordKey:
    crm_object: str
    crm_id: str


def _key(update: FieldUpdate) -> str:
    # Keyed by our external id, which is unique on the CRM record and known before the first
    # write; the CRM's own id may only be learnt from that write's answer.
    return update.external_id


class PushLedgerRepository:
    """Filter updates down to what changed, and remember what was written."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _known(
        self, session: Session, connection: str, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str, str], str]:
        known: dict[tuple[str, str, str], str] = {}
        pairs = list(dict.fromkeys(keys))
        for start in range(0, len(pairs), _CHUNK):
            chunk = pairs[start : start + _CHUNK]
            rows = session.exec(
                select(PushLedger).where(
                    col(PushLedger.connection) == connection,
                    tuple_(col(PushLedger.crm_object), col(PushLedger.crm_id)).in_(chunk),
                )
            )
            for row in rows:
                known[(row.crm_object, row.crm_id, row.field)] = row.value_hash
        return known

    def changed(self, connection: str, updates: Sequence[FieldUpdate]) -> list[FieldUpdate]:
        """The updates reduced to their changed fields; records with none are dropped."""
        with Session(self._engine) as session:
            known = self._known(session, connection, ((u.crm_object, _key(u)) for u in updates))
        result: list[FieldUpdate] = []
        for update in updates:
            fields = {
                name: value
                for name, value in update.fields.items()
                if known.get((update.crm_object, _key(update), name)) != value_hash(value)
            }
            if fields:
                result.append(update.model_copy(update={"fields": fields}))
        return result

    def record(
        self,
        connection: str,
        written: Sequence[FieldUpdate],
        customer_ids: dict[str, str] | None = None,
    ) -> None:
        """Remember the values the CRM confirmed (insert or update per record field)."""
        if not written:
            return
        owners = customer_ids or {}
        now = utcnow()
        # One row per record field (the last value wins), written in one upsert: building an
        # ORM object per field was most of a sync's push time (service/store/upserts.py).
        rows = {
            (update.crm_object, _key(update), name): {
                "connection": connection,
                "crm_object": update.crm_object,
                "crm_id": _key(update),
                "field": name,
                "value_hash": value_hash(value),
                "customer_id": owners.get(update.external_id),
                "pushed_at": now,
            }
            for update in written
            for name, value in update.fields.items()
        }
        with session_scope(self._engine) as session:
            # The customer a row belongs to is set when it is first written, as before.
            upsert_rows(
                session,
                table_of(PushLedger),
                list(rows.values()),
                key=["connection", "crm_object", "crm_id", "field"],
                update=["value_hash", "pushed_at"],
            )

    def forget_customer(self, customer_id: str) -> list[RecordKey]:
        """Drop a customer's ledger rows (erasure); returns the records they covered."""
        with session_scope(self._engine) as session:
            rows = list(
                session.exec(select(PushLedger).where(PushLedger.customer_id == customer_id))
            )
            keys = list(dict.fromkeys(RecordKey(r.crm_object, r.crm_id) for r in rows))
            for row in rows:
                session.delete(row)
            return keys
