"""Bulk API 2.0 routes under `/jobs/ingest` and `/jobs/query` (docs/crm-api-facts.md §1.1, §2.8)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.salesforce.bulk import DEFAULT_MAX_RECORDS
from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.errors import SalesforceApiError, not_found
from sandbox.salesforce.responses import json_response
from sandbox.salesforce.routes.common import DATA, add, authorize, read_json, read_object

JOBS = f"{DATA}/jobs"
_CSV = "text/csv; charset=UTF-8"
_INGEST_RESULTS = ("successfulResults", "failedResults", "unprocessedrecords")


def build_bulk_router(emu: SalesforceEmulator) -> APIRouter:
    """Ingest and query job routes."""
    router = APIRouter()
    jobs = emu.bulk

    def routes_for(kind: str) -> None:
        async def collection(request: Request, version: str) -> Response:
            session = authorize(emu, request)
            if request.method == "GET":
                return json_response(
                    {
                        "done": True,
                        "records": [j.info() for j in jobs.jobs(kind)],
                        "nextRecordsUrl": None,
                    }
                )
            body = read_object(await read_json(request))
            job = jobs.create(kind, body, session.user_id, version)
            return json_response(job.info())

        async def one(request: Request, version: str, job_id: str) -> Response:
            authorize(emu, request)
            if request.method == "GET":
                return json_response(jobs.poll(kind, job_id).info())
            if request.method == "DELETE":
                jobs.delete(kind, job_id)
                return Response(status_code=204)
            body = read_object(await read_json(request))
            return json_response(jobs.set_state(kind, job_id, str(body.get("state", ""))).info())

        add(router, f"{JOBS}/{kind}", collection, ["GET", "POST"])
        add(router, f"{JOBS}/{kind}/{{job_id}}", one, ["GET", "PATCH", "DELETE"])

    routes_for("ingest")
    routes_for("query")

    async def upload(request: Request, version: str, job_id: str) -> Response:
        authorize(emu, request)
        raw = await request.body()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SalesforceApiError(400, "InvalidBatch", "CSV data must be UTF-8") from None
        jobs.upload(job_id, text)
        # simple-salesforce insists on exactly 201 here (docs/crm-api-facts.md §1.1).
        return Response(status_code=201)

    async def ingest_results(request: Request, version: str, job_id: str, which: str) -> Response:
        authorize(emu, request)
        if which not in _INGEST_RESULTS:
            raise not_found()
        return Response(jobs.ingest_results(job_id, which), media_type=_CSV)

    async def query_results(request: Request, version: str, job_id: str) -> Response:
        authorize(emu, request)
        raw_max = request.query_params.get("maxRecords", str(DEFAULT_MAX_RECORDS))
        if not raw_max.isdigit() or int(raw_max) < 1:
            raise SalesforceApiError(400, "INVALIDPARAMETER", f"maxRecords: {raw_max}")
        text, count, locator = jobs.query_results(
            job_id, request.query_params.get("locator", ""), int(raw_max)
        )
        # Sforce-NumberOfRecords is required: simple-salesforce reads it unconditionally.
        headers = {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(count)}
        return Response(text, media_type=_CSV, headers=headers)

    add(router, f"{JOBS}/ingest/{{job_id}}/batches", upload, ["PUT"])
    add(router, f"{JOBS}/ingest/{{job_id}}/{{which}}", ingest_results, ["GET"])
    add(router, f"{JOBS}/query/{{job_id}}/results", query_results, ["GET"])
    return router
