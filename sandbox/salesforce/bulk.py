"""Bulk API 2.0 jobs: ingest (insert, update, upsert, delete) and query, as a state machine.

States advance when the client polls (docs/crm-api-facts.md §2.8): an ingest job is `Open` until the
client closes it (`UploadComplete`); the next poll sees `InProgress` (the rows are processed
then), the one after `JobComplete`. A query job starts `UploadComplete`. Polling is what every
client does, so progression is asynchronous from the client's side yet deterministic in tests.
"""

from __future__ import annotations

import base64
import csv
import io
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.salesforce.errors import RecordError, SalesforceApiError, not_found
from sandbox.salesforce.query import QueryEngine
from sandbox.salesforce.responses import format_datetime
from sandbox.salesforce.schema import ObjectDef
from sandbox.salesforce.soql.compile import CompiledQuery, compile_query
from sandbox.salesforce.soql.parser import parse
from sandbox.salesforce.store import PendingWrite, Record, SalesforceStore
from sandbox.salesforce.writes import external_id_field, prepare_upsert

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
INGEST_OPERATIONS = frozenset({"insert", "update", "upsert", "delete", "hardDelete"})
QUERY_OPERATIONS = frozenset({"query", "queryAll"})
NULL_MARKER = "#N/A"  # "set this field to null" in Bulk CSV; an empty cell means "leave as is"
DEFAULT_MAX_RECORDS = 50_000


def invalid_job_state(message: str) -> SalesforceApiError:
    """400 INVALIDJOBSTATE: the operation does not fit the job's state."""
    return SalesforceApiError(400, "INVALIDJOBSTATE", message)


@dataclass
class BulkJob:
    """One job and its results."""

    id: str
    kind: str  # "ingest" | "query"
    operation: str
    object_name: str
    created_by: str
    created: datetime
    version: str
    delimiter: str = "COMMA"
    line_ending: str = "LF"
    external_id_field: str | None = None
    query: str | None = None
    state: str = "Open"
    data: list[str] = field(default_factory=list)
    successful: list[list[str]] = field(default_factory=list)
    failed: list[list[str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    error_message: str | None = None
    modified: datetime | None = None

    def info(self) -> dict[str, Any]:
        """The JobInfo body."""
        body: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.object_name,
            "createdById": self.created_by,
            "createdDate": format_datetime(self.created),
            "systemModstamp": format_datetime(self.modified or self.created),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
            "jobType": "V2Ingest" if self.kind == "ingest" else "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.delimiter,
            "retries": 0,
            "totalProcessingTime": 0,
        }
        if self.kind == "ingest":
            body["contentUrl"] = f"services/data/v{self.version}/jobs/ingest/{self.id}/batches"
            body["externalIdFieldName"] = self.external_id_field
            body["numberRecordsProcessed"] = len(self.successful) + len(self.failed)
            body["numberRecordsFailed"] = len(self.failed)
            body["apiActiveProcessingTime"] = 0
            body["apexProcessingTime"] = 0
        else:
            body["query"] = self.query
            body["numberRecordsProcessed"] = len(self.rows)
        if self.error_message:
            body["errorMessage"] = self.error_message
        return body


def _csv_text(header: list[str], rows: list[list[str]], job: BulkJob) -> str:
    out = io.StringIO()
    writer = csv.writer(
        out,
        delimiter=DELIMITERS[job.delimiter],
        lineterminator=LINE_ENDINGS[job.line_ending],
        quoting=csv.QUOTE_MINIMAL,
    )
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class BulkJobs:
    """All Bulk 2.0 jobs of the org."""

    def __init__(self, store: SalesforceStore, queries: QueryEngine) -> None:
        self.store = store
        self.queries = queries
        self._lock = threading.Lock()
        self._jobs: dict[str, BulkJob] = {}

    # ---- lifecycle -----------------------------------------------------------------------

    def create(self, kind: str, body: dict[str, Any], user_id: str, version: str) -> BulkJob:
        """Validate a create-job request and register the job."""
        operation = str(body.get("operation", ""))
        allowed = INGEST_OPERATIONS if kind == "ingest" else QUERY_OPERATIONS
        if operation not in allowed:
            raise SalesforceApiError(
                400, "INVALIDJOB", f"Invalid operation {operation!r}; use one of {sorted(allowed)}"
            )
        delimiter = str(body.get("columnDelimiter") or "COMMA")
        line_ending = str(body.get("lineEnding") or "LF")
        if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
            raise SalesforceApiError(400, "INVALIDJOB", "Invalid columnDelimiter or lineEnding")
        now = self.store.clock.now()
        job = BulkJob(
            id=self.store.ids.new("750"),
            kind=kind,
            operation=operation,
            object_name="",
            created_by=user_id,
            created=now,
            version=version,
            delimiter=delimiter,
            line_ending=line_ending,
        )
        if kind == "ingest":
            obj = self.store.schema.object(str(body.get("object", "")))
            job.object_name = obj.name
            if operation == "upsert":
                job.external_id_field = external_id_field(
                    obj, str(body.get("externalIdFieldName") or "")
                ).name
        else:
            soql = str(body.get("query") or "")
            compiled = compile_query(parse(soql), soql, self.store, now)
            if compiled.count_only or compiled.output.children or compiled.aggregation:
                raise SalesforceApiError(
                    400,
                    "API_ERROR",
                    "Bulk API query does not support COUNT(), aggregates or subqueries",
                )
            job.object_name, job.query, job.state = compiled.obj.name, soql, "UploadComplete"
        with self._lock:
            self._jobs[job.id] = job
        return job

    def get(self, kind: str, job_id: str) -> BulkJob:
        """The job (404 NOT_FOUND for unknown ids or the wrong kind)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.kind != kind:
            raise not_found()
        return job

    def poll(self, kind: str, job_id: str) -> BulkJob:
        """The job after one step of progression."""
        job = self.get(kind, job_id)
        with self._lock:
            if job.state == "UploadComplete":
                job.state = "InProgress"
            elif job.state == "InProgress":
                self._process(job)
            job.modified = self.store.clock.now()
        return job

    def upload(self, job_id: str, text: str) -> None:
        """Append CSV data to an open ingest job."""
        job = self.get("ingest", job_id)
        if job.state != "Open":
            raise invalid_job_state(f"Job {job_id} is not Open (state {job.state})")
        job.data.append(text)

    def set_state(self, kind: str, job_id: str, state: str) -> BulkJob:
        """Close (`UploadComplete`) or abort (`Aborted`) a job."""
        job = self.get(kind, job_id)
        if state == "Aborted" and job.state not in ("JobComplete", "Failed"):
            job.state = "Aborted"
        elif state == "UploadComplete" and kind == "ingest" and job.state == "Open":
            job.state = "UploadComplete"
        else:
            raise invalid_job_state(f"Cannot move job {job_id} from {job.state} to {state}")
        job.modified = self.store.clock.now()
        return job

    def delete(self, kind: str, job_id: str) -> None:
        """Remove a job that is not running."""
        job = self.get(kind, job_id)
        if job.state in ("UploadComplete", "InProgress"):
            raise invalid_job_state(f"Job {job_id} is still {job.state}")
        with self._lock:
            self._jobs.pop(job_id, None)

    def clear(self) -> None:
        """Forget every job."""
        with self._lock:
            self._jobs.clear()

    def jobs(self, kind: str) -> list[BulkJob]:
        """Jobs of one kind, oldest first."""
        with self._lock:
            return [j for j in self._jobs.values() if j.kind == kind]

    # ---- results -------------------------------------------------------------------------

    def ingest_results(self, job_id: str, which: str) -> str:
        """`successfulResults`, `failedResults` or `unprocessedrecords` as CSV."""
        job = self.get("ingest", job_id)
        if job.state != "JobComplete" and which != "unprocessedrecords":
            raise invalid_job_state(f"Job {job_id} is not complete (state {job.state})")
        if which == "successfulResults":
            return _csv_text(["sf__Id", "sf__Created", *job.header], job.successful, job)
        if which == "failedResults":
            return _csv_text(["sf__Id", "sf__Error", *job.header], job.failed, job)
        unprocessed = [] if job.state == "JobComplete" else self._parse(job)[1]
        return _csv_text(job.header, unprocessed, job)

    def query_results(self, job_id: str, locator: str, max_records: int) -> tuple[str, int, str]:
        """(CSV chunk, records in it, next locator or "null")."""
        job = self.get("query", job_id)
        if job.state != "JobComplete":
            raise invalid_job_state(f"Job {job_id} is not complete (state {job.state})")
        try:
            offset = int(base64.b64decode(locator).decode()) if locator else 0
        except ValueError:
            raise SalesforceApiError(400, "INVALID_LOCATOR", "invalid locator") from None
        chunk = job.rows[offset : offset + max_records]
        end = offset + len(chunk)
        next_locator = (
            base64.b64encode(str(end).encode()).decode() if end < len(job.rows) else "null"
        )
        return _csv_text(job.header, chunk, job), len(chunk), next_locator

    # ---- processing ----------------------------------------------------------------------

    def _process(self, job: BulkJob) -> None:
        try:
            if job.kind == "query":
                self._run_query(job)
            else:
                self._run_ingest(job)
        except (SalesforceApiError, csv.Error, ValueError) as exc:
            job.state, job.error_message = "Failed", str(getattr(exc, "message", exc))
            return
        job.state = "JobComplete"

    def _run_query(self, job: BulkJob) -> None:
        assert job.query is not None
        compiled = compile_query(parse(job.query), job.query, self.store, self.store.clock.now())
        rows = self.queries.select(compiled, include_deleted=job.operation == "queryAll")
        job.header = _columns(compiled)
        getters = [_path_getter(self.store, column) for column in job.header]
        job.rows = [[_cell(get(r)) for get in getters] for r in rows]

    def _parse(self, job: BulkJob) -> tuple[list[str], list[list[str]]]:
        text = "".join(job.data)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[job.delimiter])
        rows = [row for row in reader if row]
        if not rows:
            raise ValueError("InvalidBatch : Field name not found: the upload was empty")
        return rows[0], rows[1:]

    def _run_ingest(self, job: BulkJob) -> None:
        header, rows = self._parse(job)
        job.header = header
        obj = self.store.schema.object(job.object_name)
        for row in rows:
            values = dict(zip(header, row, strict=False))
            try:
                pending = self._prepare(job, obj, values)
                record_id = self.store.commit(pending, job.created_by)
            except (RecordError, SalesforceApiError) as exc:
                code = getattr(exc, "status_code", None) or getattr(exc, "error_code", "")
                fields = ",".join(exc.fields)
                job.failed.append([values.get("Id", ""), f"{code}:{exc.message}:{fields}", *row])
                continue
            job.successful.append([record_id, "true" if pending.created else "false", *row])

    def _prepare(self, job: BulkJob, obj: ObjectDef, values: dict[str, str]) -> PendingWrite:
        body: dict[str, Any] = {}
        for column, raw in values.items():
            if raw == "":
                continue  # an empty cell leaves the field as it is
            value: Any = None if raw == NULL_MARKER else raw
            if "." in column:
                column, value = self._resolve_parent(obj, column, value)
            body[column] = value
        record_id = next((v for k, v in body.items() if k.lower() == "id"), None)
        if job.operation in ("delete", "hardDelete"):
            return self.store.prepare_delete(obj, str(record_id or ""))
        if job.operation == "update":
            fields = {k: v for k, v in body.items() if k.lower() != "id"}
            return self.store.prepare_update(obj, str(record_id or ""), fields, set())
        if job.operation == "upsert":
            assert job.external_id_field is not None
            key = obj.field(job.external_id_field)
            value = next((v for k, v in body.items() if k.lower() == key.name.lower()), None)
            return prepare_upsert(self.store, obj, key, value, body, job.created_by, set())
        return self.store.prepare_create(obj, body, job.created_by, set())

    def _resolve_parent(self, obj: ObjectDef, column: str, value: Any) -> tuple[str, Any]:
        # "Account.Cx_Id__c" sets AccountId to the Account whose Cx_Id__c is the value.
        relationship, _, key_name = column.partition(".")
        reference = obj.relationship(relationship)
        if reference is None:
            raise RecordError("INVALID_FIELD", f"No such relationship {relationship}", (column,))
        if value is None:
            return reference.name, None
        parent = self.store.schema.object(reference.reference_to[0])
        key = external_id_field(parent, key_name)
        matches = self.store.find_by_key(parent, key, value)
        if len(matches) != 1:
            raise RecordError(
                "INVALID_FIELD",
                f"Foreign key external ID: {value} not found for field {key.name} in entity "
                f"{parent.name}",
                (column,),
            )
        return reference.name, matches[0]


def _columns(compiled: CompiledQuery) -> list[str]:
    columns: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        columns.extend(prefix + name for name in node.fields)
        for rel_name, _, sub in node.parents.values():
            walk(sub, f"{prefix}{rel_name}.")

    walk(compiled.output, "")
    return columns


def _path_getter(store: SalesforceStore, column: str) -> Any:
    *hops, name = column.split(".")

    def get(record: Record) -> Any:
        current: Record | None = record
        for hop in hops:
            assert current is not None
            obj = store.schema.by_prefix(current["Id"])
            reference = obj.relationship(hop) if obj else None
            target = current.get(reference.name) if reference else None
            found = store.get_any(target) if target else None
            current = found[1] if found else None
            if current is None:
                return None
        return current.get(name) if current is not None else None

    return get
