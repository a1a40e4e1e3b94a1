"""Importing a survey tool's export: each answer in its respondent's history, then rescored and
pushed like everything else (docs/survey-import.md).

1. **Read and check** every row (service/imports/rows.py); a malformed row is reported by row and
   column and the others go on.
2. **Match** each respondent to a person: by the CRM record id of a named connection, else by the
   identity graph's own e-mail rule (service/store/survey_imports.py). A row matching no one is
   reported by row number and reason, never by its values, and is not stored: importing the same
   file again once the person exists in a CRM picks it up.
3. **Store** each answer as a `SurveyResponse`, and each comment also as an inbound `Interaction`
   on the survey channel, so it gets its sentiment and aspects like every other message
   (service/usecases/annotate.py). Records are stored by `RecordStore.upsert` under the person's
   CRM connection, with the source object `import:<tool>` and an id derived from the tool and
   the response id: importing the same file again changes nothing, an edited row updates its
   answers, and erasing the person deletes them with the rest of their history.
4. **Rescore and push** the persons whose history changed, on every connection holding one of
   their records (`rescore_people`, the rescore path of `POST /v1/customers/{id}/rescore`).
   They are marked first (`mark_elsewhere`), so a CRM that is down gets them at its next sync.

A dry run stops after step 2 and reports what steps 3 and 4 would do; it writes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from service.domain import (
    Channel,
    Direction,
    DomainModel,
    Interaction,
    SourceRef,
    SurveyResponse,
)
from service.domain.identity import IdentityKeys, email_key, phone_key, region_of
from service.imports.mapping import Mapping
from service.imports.readers import Table
from service.imports.rows import Problem, Response, missing_columns, read_row
from service.ports import CrmError, CrmWriter
from service.scoring.churn.thresholds import FlagPolicy
from service.store.records import fingerprint
from service.store.survey_imports import CustomerRecord, Stored, SurveyImportLookups
from service.usecases.annotate import SignalSource, with_sentiment
from service.usecases.rescore import rescore_people
from service.usecases.sync import Progress, SyncStores, ignore_progress, mark_elsewhere

log = logging.getLogger(__name__)

BY_CRM_ID = "crm_id"  # the rule of a respondent matched by their CRM record id


class ImportSetupError(Exception):
    """The file and the mapping do not fit together (one line, nothing imported)."""


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A valid row whose respondent is no one we know (yet): row number and why, no values."""

    row: int
    reason: str


@dataclass
class ImportReport:
    """What an import did, or a dry run would do."""

    tool: str
    source: str
    dry_run: bool
    rows_read: int = 0
    valid: int = 0
    problems: list[Problem] = field(default_factory=list)
    matched_by: Counter[str] = field(default_factory=Counter)
    unmatched: list[Unmatched] = field(default_factory=list)
    new: int = 0  # responses (rows) none of whose records was stored
    updated: int = 0
    already_imported: int = 0
    records_new: int = 0  # answers and comments
    records_updated: int = 0
    persons: int = 0  # persons whose history changed (to rescore)
    scored: int = 0
    pushed: int = 0
    tasks_created: int = 0
    push_failed: list[str] = field(default_factory=list)
    # Connections whose push did not happen now: they get the persons at their next sync.
    deferred: list[str] = field(default_factory=list)

    @property
    def invalid(self) -> int:
        return len({p.row for p in self.problems})

    @property
    def matched(self) -> int:
        return sum(self.matched_by.values())

    @property
    def complete(self) -> bool:
        """Every row read was valid and matched someone."""
        return not self.problems and not self.unmatched

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON: counts, and rows by number with their reasons (no values that
        name anyone)."""
        return {
            "tool": self.tool,
            "source": self.source,
            "dry_run": self.dry_run,
            "rows": {
                "read": self.rows_read,
                "valid": self.valid,
                "invalid": self.invalid,
                "matched": self.matched,
                "unmatched": len(self.unmatched),
                "new": self.new,
                "updated": self.updated,
                "already_imported": self.already_imported,
            },
            "matched_by": dict(sorted(self.matched_by.items())),
            "records": {"new": self.records_new, "updated": self.records_updated},
            "invalid": [
                {"row": p.row, "column": p.column, "problem": p.problem} for p in self.problems
            ],
            "unmatched": [{"row": u.row, "reason": u.reason} for u in self.unmatched],
            "persons_rescored": self.persons if not self.dry_run else 0,
            "scored": self.scored,
            "fields_pushed": self.pushed,
            "tasks_created": self.tasks_created,
            "push_failed": self.push_failed,
            "deferred": self.deferred,
        }


@dataclass(frozen=True, slots=True)
class _Match:
    person: str
    rule: str
    home: CustomerRecord | None = None  # the record of the CRM id it was matched by


@dataclass
class SurveyImport:
    """What an import needs: the stores, the look-ups and, to push, the writers."""

    stores: SyncStores
    lookups: SurveyImportLookups
    # The writer of a configured connection; the persons' other connections are left to their
    # own sync (named in `ImportReport.deferred`).
    writers: Callable[[str], CrmWriter]
    connections: Collection[str]
    analyzer: SignalSource | None = None
    flag_policy: FlagPolicy | None = None
    progress: Progress = ignore_progress

    def run(
        self,
        table: Table,
        mapping: Mapping,
        now: datetime,
        *,
        connection: str | None = None,
        dry_run: bool = False,
    ) -> ImportReport:
        """Import the table's responses, scored as of `now` (`connection`: the one the CRM id
        column belongs to, overriding the mapping's)."""
        crm_connection = connection or mapping.crm_connection
        if mapping.crm_id and not crm_connection:
            raise ImportSetupError(
                f"{mapping.source}: respondent.crm_id needs the connection it belongs to "
                "(respondent.crm_id.connection, or --connection)"
            )
        missing = missing_columns(mapping, table.columns) if table.columns else []
        if missing:
            raise ImportSetupError(
                f"the file has no column {', '.join(missing)} (see {mapping.source})"
            )
        report = ImportReport(mapping.tool, mapping.label, dry_run)
        responses = self._read(table, mapping, now, report)
        matches = self._match(responses, mapping, crm_connection, report)
        homes = self._homes(matches, report)
        records = {r.row: _records(mapping, r, homes[r.row]) for r in responses if r.row in homes}
        stored = self.lookups.imported(
            mapping.label, (_source(rec).crm_id for recs in records.values() for rec in recs)
        )
        if dry_run:
            _classify(report, records, stored, surveys_only=True)
            return report
        self._store(mapping, records, stored, report, now)
        return report

    # -- the steps ---------------------------------------------------------------------

    def _read(
        self, table: Table, mapping: Mapping, now: datetime, report: ImportReport
    ) -> list[Response]:
        responses: list[Response] = []
        seen: dict[str, int] = {}
        for row in table.rows:
            report.rows_read += 1
            self.progress("read", 1)
            found = read_row(mapping, row, now)
            if isinstance(found, list):
                report.problems.extend(found)
                continue
            if found.response_id in seen:
                # Two rows with one id would overwrite each other: neither is the answer.
                first = seen[found.response_id]
                report.problems.append(
                    Problem(found.row, None, f"the same response id as row {first}")
                )
                continue
            seen[found.response_id] = found.row
            responses.append(found)
        report.valid = len(responses)
        return responses

    def _match(
        self,
        responses: list[Response],
        mapping: Mapping,
        crm_connection: str | None,
        report: ImportReport,
    ) -> dict[int, _Match]:
        by_crm = (
            self.lookups.by_crm_id(crm_connection, (r.crm_id for r in responses if r.crm_id))
            if crm_connection
            else {}
        )
        # One entry per verified address: the same respondent answering twice is one key, so
        # their rows are not "several records sharing an address".
        keys: dict[str, IdentityKeys] = {}
        for response in responses:
            address = email_key(response.email)
            if address is None:
                continue
            phone = phone_key(response.phone, region_of(response.language))
            known = keys.get(address)
            if known is None or (known.phone is None and phone is not None):
                keys[address] = IdentityKeys(address, phone)
        joins = self.lookups.by_email(mapping.label, keys) if keys else {}
        matches: dict[int, _Match] = {}
        for response in responses:
            if response.crm_id and response.crm_id in by_crm and crm_connection:
                home = CustomerRecord(crm_connection, "", response.crm_id)
                matches[response.row] = _Match(by_crm[response.crm_id], BY_CRM_ID, home)
            elif (address := email_key(response.email)) and address in joins:
                join = joins[address]
                matches[response.row] = _Match(join.person, join.evidence.rule.value)
            else:
                report.unmatched.append(Unmatched(response.row, _why_unmatched(response)))
                continue
            report.matched_by[matches[response.row].rule] += 1
        return matches

    def _homes(self, matches: dict[int, _Match], report: ImportReport) -> dict[int, CustomerRecord]:
        """The CRM record each matched row's answers are stored under: the one its CRM id named,
        else the person's first stored record."""
        records = self.lookups.records_of(m.person for m in matches.values() if m.home is None)
        homes: dict[int, CustomerRecord] = {}
        for row, match in matches.items():
            if match.home is not None:
                homes[row] = match.home
            elif records.get(match.person):
                homes[row] = records[match.person][0]
            else:  # their last record went between the match and now
                report.matched_by[match.rule] -= 1
                report.unmatched.append(Unmatched(row, "the person has no live CRM record"))
        return homes

    def _store(
        self,
        mapping: Mapping,
        records: dict[int, list[DomainModel]],
        stored: dict[str, Stored],
        report: ImportReport,
        now: datetime,
    ) -> None:
        by_connection: dict[str, list[DomainModel]] = defaultdict(list)
        for row_records in records.values():
            for record in row_records:
                by_connection[_source(record).connection].append(record)
        annotated: dict[int, list[DomainModel]] = {}
        changed: set[str] = set()
        for home, batch in by_connection.items():
            languages = partial(self.stores.records.customer_languages, home)
            with_signal = with_sentiment(batch, self.analyzer, languages)
            ids = {_source(r).crm_id: r for r in with_signal}
            for row, row_records in records.items():
                if _source(row_records[0]).connection == home:
                    annotated[row] = [ids[_source(r).crm_id] for r in row_records]
            # An answer stored under another of the person's records before (since deleted in
            # its CRM) moves here, instead of counting twice.
            moved = defaultdict(list)
            for record in with_signal:
                before = stored.get(_source(record).crm_id)
                if before is not None and before.connection != home:
                    moved[before.connection].append(_source(record).crm_id)
            for old, crm_ids in moved.items():
                self.stores.records.mark_deleted(old, mapping.label, crm_ids)
                for crm_id in crm_ids:
                    stored.pop(crm_id, None)
            result = self.stores.records.upsert(home, with_signal)
            changed |= result.changed_customers
            self.progress("stored", result.stored)
        _classify(report, annotated, stored, surveys_only=False)
        report.persons = len(changed)
        if changed:
            self._rescore(mapping, changed, report, now)

    def _rescore(
        self, mapping: Mapping, persons: set[str], report: ImportReport, now: datetime
    ) -> None:
        # Marked first: whatever happens to the pushes below, each CRM holding the person
        # scores them at its next sync (none of their records is in `mapping.label`).
        mark_elsewhere(self.stores, mapping.label, persons)
        people: dict[str, set[str]] = defaultdict(set)
        for person, records in self.lookups.records_of(persons).items():
            for record in records:
                people[record.connection].add(person)
        for connection, members in sorted(people.items()):
            if connection not in self.connections:
                report.deferred.append(f"{connection}: not configured here")
                continue
            try:
                done = rescore_people(
                    {connection: members},
                    self.writers,
                    self.stores,
                    now,
                    flag_policy=self.flag_policy,
                    progress=self.progress,
                )
            except CrmError as error:
                log.warning("survey import: push to %s deferred: %s", connection, error)
                report.deferred.append(f"{connection}: {type(error).__name__}: {error}")
                continue
            report.scored += done.scored
            report.pushed += done.pushed
            report.tasks_created += done.tasks_created
            report.push_failed.extend(done.push_failed)
            if self.stores.marks is not None:
                taken = self.stores.marks.pending(connection)
                self.stores.marks.clear(
                    connection, {p: at for p, at in taken.items() if p in members}
                )


def _why_unmatched(response: Response) -> str:
    reasons: list[str] = []
    if response.crm_id:
        reasons.append("no stored customer record has this CRM id")
    if response.email:
        if email_key(response.email) is None:
            reasons.append("the e-mail cannot link anyone (malformed, or a role address)")
        else:
            reasons.append("no single person holds this e-mail (none, or several)")
    elif response.phone:
        reasons.append("a phone alone never links a person (docs/identity.md)")
    if not reasons:
        reasons.append("no e-mail or CRM id")
    return "; ".join(reasons)


def stable_id(tool: str, response_id: str) -> str:
    """The id a response's records are stored under: the same for the same tool and response,
    whatever file or format it came in."""
    return hashlib.sha256(f"{tool}\x1f{response_id}".encode()).hexdigest()[:32]


def _records(mapping: Mapping, response: Response, home: CustomerRecord) -> list[DomainModel]:
    """The response's answers and comments as domain records of the person's `home` record."""
    base = stable_id(mapping.tool, response.response_id)
    remarks: dict[str, list[str]] = defaultdict(list)
    for comment in response.comments:
        if comment.question.about:
            remarks[comment.question.about].append(comment.text)
    records: list[DomainModel] = []
    for answer in response.answers:
        crm_id = f"{base}.{answer.question.name}"
        records.append(
            SurveyResponse(
                id=crm_id,
                source=SourceRef(
                    connection=home.connection, crm_object=mapping.label, crm_id=crm_id
                ),
                customer_id=home.crm_id,
                kind=answer.question.survey_kind,
                value=answer.value,
                scale=answer.question.scale,
                touchpoint=response.touchpoint,
                channel=mapping.channel,
                occurred_at=response.submitted_at,
                comment="\n".join(remarks.get(answer.question.name, [])) or None,
            )
        )
    for comment in response.comments:
        crm_id = f"{base}.{comment.question.name}"
        records.append(
            Interaction(
                id=crm_id,
                source=SourceRef(
                    connection=home.connection, crm_object=mapping.label, crm_id=crm_id
                ),
                customer_id=home.crm_id,
                channel=Channel.SURVEY,
                direction=Direction.INBOUND,
                occurred_at=response.submitted_at,
                text=comment.text,
                language=response.language,
            )
        )
    return records


def _source(record: DomainModel) -> SourceRef:
    source: SourceRef | None = getattr(record, "source", None)
    assert source is not None, "imported records carry their source"
    return source


def _classify(
    report: ImportReport,
    records: dict[int, list[DomainModel]],
    stored: dict[str, Stored],
    *,
    surveys_only: bool,
) -> None:
    """Count responses and records as new, updated or already imported, by their fingerprints
    against the stored ones (a dry run knows comments by their ids only: their stored form holds
    the sentiment it does not compute)."""
    for row_records in records.values():
        states: list[str] = []
        for record in row_records:
            before = stored.get(_source(record).crm_id)
            if surveys_only and not isinstance(record, SurveyResponse):
                states.append("new" if before is None else "same")  # by its id alone
                report.records_new += before is None
                continue
            if before is None:
                states.append("new")
                report.records_new += 1
            elif before.fingerprint != fingerprint(record, record.model_dump(mode="json")):
                states.append("updated")
                report.records_updated += 1
            else:
                states.append("same")
        if states and all(s == "new" for s in states):
            report.new += 1
        elif all(s == "same" for s in states):
            report.already_imported += 1
        else:
            report.updated += 1
