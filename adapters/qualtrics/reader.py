"""Survey responses pulled by export, one stream per mapped survey (docs/qualtrics.md).

Each stream runs the survey's export (exports.py: start, poll on `status` with a bounded
back-off, download, unzip, parse) and yields its completed responses in batches of
`batch_size` responses: each response's respondent (`Customer`), answers (`SurveyResponse`)
and free text (`Interaction`). The cursor carries the export's state, so a run killed between
polls or between batches resumes the same export instead of starting over; the last batch
carries the continuation token for the next, newer-only export. `get` reads single responses
by id (for events).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from adapters.mapping import MappingSet, coerce
from adapters.qualtrics.client import QualtricsClient
from adapters.qualtrics.exports import (
    FLOOR,
    MAX_RESTARTS,
    Completed,
    Exporter,
    ExportFailedError,
    ExportState,
    since_of,
)
from adapters.qualtrics.records import build_response, completed
from adapters.qualtrics.surveymap import KIND, SurveyMap, survey_maps
from adapters.records import RecordRefusedError
from service.domain import Batch, Cursor, Customer, DomainModel
from service.ports import Canonical, CrmNotFoundError, CrmUnavailableError, Stream

log = logging.getLogger(__name__)


def _repeated(record: DomainModel, seen: dict[str, DomainModel]) -> bool:
    """Whether `record` is a respondent already yielded, unchanged, in this run."""
    if not isinstance(record, Customer):
        return False
    if seen.get(record.id) == record:
        return True
    seen[record.id] = record
    return False


class QualtricsReader:
    """`CrmReader` for one Qualtrics brand."""

    def __init__(
        self,
        client: QualtricsClient,
        mappings: MappingSet,
        lookback: timedelta,
        *,
        exporter: Exporter | None = None,
    ) -> None:
        self.connection = client.name
        self.client = client
        self.lookback = lookback
        settings = client.settings
        self.batch_size = settings.batch_size
        self.exporter = exporter or Exporter(
            client,
            first_wait=settings.export_poll_seconds,
            max_wait=settings.export_poll_max_seconds,
            timeout=settings.export_timeout_seconds,
        )
        self._maps = {m.survey_id: m for m in survey_maps(mappings.for_crm(KIND, "pull"))}

    def streams(self) -> Sequence[Stream]:
        return [Stream(survey_id, Canonical.SURVEY) for survey_id in self._maps]

    def surveys(self) -> list[SurveyMap]:
        return list(self._maps.values())

    def pull(self, stream: Stream, cursor: Cursor | None) -> Iterator[Batch[DomainModel]]:
        smap = self._maps[stream.name]
        state = ExportState.read(cursor)
        stamp = cursor.modified_at if cursor is not None and cursor.modified_at else FLOOR
        # What a failed export starts again from: the token we came with, else the date.
        origin = state if state.phase == "next" else ExportState("")
        restarts = 0
        while True:
            try:
                if state.phase not in ("run", "file"):
                    progress_id = self.exporter.start(
                        smap.survey_id, state, since_of(cursor, self.lookback)
                    )
                    state = ExportState("run", progress_id=progress_id)
                    # Saved before the first poll: a run killed while waiting resumes this
                    # export instead of starting another.
                    yield Batch(
                        records=(), cursor=self._cursor(stream, stamp, state), has_more=True
                    )
                assert state.progress_id is not None
                done = self.exporter.wait(smap.survey_id, state.progress_id)
                rows = self.exporter.responses(smap.survey_id, done.file_id)
                break
            except ExportFailedError as error:
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise CrmUnavailableError(
                        f"Qualtrics export of {smap.survey_id} failed {restarts} times ({error})",
                        connection=self.connection,
                    ) from error
                log.warning("%s: %s; starting a new export", self.connection, error)
                state = origin
        yield from self._deliver(stream, smap, rows, done, state, stamp)

    def _deliver(
        self,
        stream: Stream,
        smap: SurveyMap,
        rows: list[dict[str, Any]],
        done: Completed,
        state: ExportState,
        stamp: datetime,
    ) -> Iterator[Batch[DomainModel]]:
        start = state.delivered if state.phase == "file" else 0
        total = len(rows)
        # A respondent who answered several times is yielded once a run (again only when a
        # later response says something new about them, e.g. a CRM id the first lacked).
        seen: dict[str, DomainModel] = {}
        if start >= total:
            final = ExportState("next", token=done.token)
            yield Batch(records=(), cursor=self._cursor(stream, stamp, final))
            return
        for first in range(start, total, self.batch_size):
            chunk = rows[first : first + self.batch_size]
            records, rejected, newest = self._build(smap, chunk)
            records = [r for r in records if not _repeated(r, seen)]
            stamp = max(stamp, newest or stamp)
            end = first + len(chunk)
            more = end < total
            after = (
                ExportState("file", progress_id=done.progress_id, delivered=end)
                if more
                else ExportState("next", token=done.token)
            )
            yield Batch(
                records=tuple(records),
                cursor=self._cursor(stream, stamp, after),
                has_more=more,
                rejected=tuple(rejected),
            )

    def _cursor(self, stream: Stream, stamp: datetime, state: ExportState) -> Cursor:
        return Cursor(stream=stream.name, modified_at=stamp, last_id=state.last_id())

    def _build(
        self, smap: SurveyMap, rows: list[dict[str, Any]]
    ) -> tuple[list[DomainModel], list[str], datetime | None]:
        """The chunk's records (each respondent once, first), refusals and newest
        recordedDate."""
        customers: dict[str, DomainModel] = {}
        others: list[DomainModel] = []
        rejected: list[str] = []
        newest: datetime | None = None
        for row in rows:
            values = row.get("values") if isinstance(row.get("values"), dict) else {}
            try:
                recorded = coerce((values or {}).get("recordedDate"), "datetime")
            except ValueError:
                recorded = None
            if recorded is not None and (newest is None or recorded > newest):
                newest = recorded
            if not completed(row):
                continue  # unfinished: not a completed response
            try:
                built = build_response(smap, row, self.connection)
            except RecordRefusedError as error:
                log.warning("skipped response %s", error)
                rejected.append(f"{error.crm_id}: {error.reason}")
                continue
            for record in built:
                if isinstance(record, Customer):
                    customers[record.id] = record
                else:
                    others.append(record)
        return [*customers.values(), *others], rejected, newest

    def get(self, stream: Stream, crm_ids: Sequence[str]) -> list[DomainModel]:
        """Single responses by id (gone ones are left out: the caller counts them deleted)."""
        smap = self._maps[stream.name]
        found: list[DomainModel] = []
        for response_id in crm_ids:
            try:
                result = self.client.response(smap.survey_id, response_id)
            except CrmNotFoundError:
                continue
            row = {"responseId": result.get("responseId") or response_id, **result}
            if not completed(row):
                continue
            try:
                found.extend(build_response(smap, row, self.connection))
            except RecordRefusedError as error:
                log.warning("skipped response %s", error)
        return found
