"""What a survey import asks the store before it writes: who the respondents are, where each
person's CRM records are, and which answers are already stored.

Read-only and set-based (a few queries per 1,000 values, whatever the file's size). Matching by
e-mail is the identity graph's own (`find_people`, service/store/identity_graph.py, on the rules
of service/domain/identity.py): a verified, normalised address held by exactly one person, never
a role address, never a value several records of one CRM share; the phone only raises the
rule's confidence. The answers themselves are stored by `RecordStore.upsert`, like pulled ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from more_itertools import chunked
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from service.domain.identity import IdentityKeys
from service.store.identity_graph import PLACEHOLDER, Join, find_people
from service.store.tables import CrmLink, EntityType
from service.store.upserts import table_of

_LINKS = table_of(CrmLink)
_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """One live CRM customer record of a person."""

    connection: str
    crm_object: str
    crm_id: str


@dataclass(frozen=True, slots=True)
class Stored:
    """An imported answer already in the store."""

    connection: str
    fingerprint: str | None


class SurveyImportLookups:
    """The reads of a survey import."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def by_email(self, source: str, keys: Mapping[str, IdentityKeys]) -> dict[str, Join]:
        """Respondent key -> the person their verified e-mail links to, by the identity graph's
        rules, as if the respondents were records of the connection `source` (which holds no
        customer records, so only the CRMs' records decide)."""
        with Session(self._engine) as session:
            return find_people(session, source, keys, list(keys))

    def by_crm_id(self, connection: str, crm_ids: Iterable[str]) -> dict[str, str]:
        """CRM id -> person, for the live customer records of `connection` with those ids."""
        found: dict[str, str] = {}
        with self._engine.connect() as conn:
            for chunk in chunked(sorted(set(crm_ids)), _CHUNK):
                rows = conn.execute(
                    select(_LINKS.c.crm_id, _LINKS.c.entity_id).where(
                        _LINKS.c.connection == connection,
                        _LINKS.c.entity_type == EntityType.CUSTOMER.value,
                        _LINKS.c.crm_id.in_(chunk),
                        _LINKS.c.crm_object != PLACEHOLDER,
                        _LINKS.c.deleted_at.is_(None),
                    )
                )
                found.update({str(crm_id): str(person) for crm_id, person in rows})
        return found

    def records_of(self, persons: Iterable[str]) -> dict[str, list[CustomerRecord]]:
        """Person -> their live CRM customer records, in the order they were first stored."""
        found: dict[str, list[CustomerRecord]] = defaultdict(list)
        with self._engine.connect() as conn:
            for chunk in chunked(sorted(set(persons)), _CHUNK):
                rows = conn.execute(
                    select(
                        _LINKS.c.entity_id,
                        _LINKS.c.connection,
                        _LINKS.c.crm_object,
                        _LINKS.c.crm_id,
                    )
                    .where(
                        _LINKS.c.entity_id.in_(chunk),
                        _LINKS.c.entity_type == EntityType.CUSTOMER.value,
                        _LINKS.c.crm_object != PLACEHOLDER,
                        _LINKS.c.deleted_at.is_(None),
                    )
                    .order_by(_LINKS.c.id)
                )
                for person, connection, crm_object, crm_id in rows:
                    found[str(person)].append(CustomerRecord(connection, crm_object, crm_id))
        return dict(found)

    def imported(self, crm_object: str, crm_ids: Iterable[str]) -> dict[str, Stored]:
        """Stored answers of the source object `crm_object` (`import:<tool>`) by their id, in
        whichever connection they were stored under."""
        found: dict[str, Stored] = {}
        with self._engine.connect() as conn:
            for chunk in chunked(sorted(set(crm_ids)), _CHUNK):
                rows = conn.execute(
                    select(_LINKS.c.crm_id, _LINKS.c.connection, _LINKS.c.fingerprint).where(
                        _LINKS.c.crm_object == crm_object,
                        _LINKS.c.crm_id.in_(chunk),
                        _LINKS.c.deleted_at.is_(None),
                    )
                )
                found.update({str(i): Stored(str(c), f) for i, c, f in rows})
        return found
