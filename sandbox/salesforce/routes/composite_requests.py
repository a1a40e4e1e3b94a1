"""`/composite` (dependent sub-requests with `@{ref.field}`, optional all-or-none) and
`/composite/batch` (independent sub-requests, `haltOnError`) — docs/crm-api-facts.md §2.7."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from sandbox.salesforce.emulator import SalesforceEmulator
from sandbox.salesforce.errors import SalesforceApiError
from sandbox.salesforce.responses import json_response
from sandbox.salesforce.routes.common import DATA, add, authorize, read_json, read_object
from sandbox.salesforce.subrequests import (
    SubResponse,
    UnresolvedReferenceError,
    counting_disabled,
    dispatch,
    substitute,
)

MAX_SUBREQUESTS = 25
MAX_QUERIES_OR_COLLECTIONS = 5
_REFERENCE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
HALTED = "The transaction was rolled back since another operation in the same transaction failed."


def _halted(message: str) -> list[dict[str, str]]:
    return [{"errorCode": "PROCESSING_HALTED", "message": message}]


def _check_count(items: list[Any], what: str) -> None:
    if not items:
        raise SalesforceApiError(400, "INVALID_BATCH_REQUEST", f"{what} must not be empty")
    if len(items) > MAX_SUBREQUESTS:
        raise SalesforceApiError(
            400,
            "INVALID_BATCH_REQUEST",
            f"Maximum number of subrequests exceeded: {MAX_SUBREQUESTS}",
        )


def build_composite_requests_router(emu: SalesforceEmulator) -> APIRouter:
    """The two multi-request endpoints."""
    router = APIRouter()

    async def composite(request: Request, version: str) -> Response:
        authorize(emu, request)
        body = read_object(await read_json(request))
        items = body.get("compositeRequest")
        if not isinstance(items, list):
            raise SalesforceApiError(400, "JSON_PARSER_ERROR", "compositeRequest is required")
        _check_count(items, "compositeRequest")
        all_or_none = body.get("allOrNone") is True
        requests_: list[dict[str, Any]] = []
        heavy = 0
        for item in items:
            if not isinstance(item, dict) or not _REFERENCE_ID.match(str(item.get("referenceId"))):
                raise SalesforceApiError(
                    400, "INVALID_BATCH_REQUEST", "every subrequest needs a valid referenceId"
                )
            url = str(item.get("url", ""))
            if not url.startswith("/services/data/v"):
                raise SalesforceApiError(
                    400, "INVALID_BATCH_REQUEST", f"url must start with /services/data/: {url}"
                )
            heavy += "/query" in url or "/composite/sobjects" in url
            requests_.append(item)
        if heavy > MAX_QUERIES_OR_COLLECTIONS:
            raise SalesforceApiError(
                400,
                "INVALID_BATCH_REQUEST",
                f"at most {MAX_QUERIES_OR_COLLECTIONS} subrequests may be queries or collections",
            )
        results: dict[str, Any] = {}
        out: list[dict[str, Any]] = []
        failed = False
        with emu.store.transaction() as undo, counting_disabled():
            for item in requests_:
                ref = str(item["referenceId"])
                if failed and all_or_none:
                    out.append(_entry(ref, SubResponse(400, _halted(HALTED), {})))
                    continue
                try:
                    url = substitute(str(item["url"]), results)
                    sub_body = substitute(item.get("body"), results)
                except UnresolvedReferenceError as exc:
                    message = (
                        f"Invalid reference specified. No value for {exc} found in {ref}. "
                        "Provided referenceId ids must reference a successful prior subrequest."
                    )
                    out.append(_entry(ref, SubResponse(400, _halted(message), {})))
                    failed = True
                    continue
                response = await dispatch(
                    request.app.router, request.scope, str(item.get("method", "GET")), url, sub_body
                )
                out.append(_entry(ref, response))
                if response.status < 300:
                    results[ref] = response.body
                else:
                    failed = True
            if failed and all_or_none:
                emu.store.rollback(undo)
                for entry in out:
                    if entry["httpStatusCode"] < 300:
                        entry.update(httpStatusCode=400, body=_halted(HALTED), httpHeaders={})
        return json_response({"compositeResponse": out})

    async def batch(request: Request, version: str) -> Response:
        authorize(emu, request)
        body = read_object(await read_json(request))
        items = body.get("batchRequests")
        if not isinstance(items, list):
            raise SalesforceApiError(400, "JSON_PARSER_ERROR", "batchRequests is required")
        _check_count(items, "batchRequests")
        halt = body.get("haltOnError") is True
        results: list[dict[str, Any]] = []
        halted = False
        with counting_disabled():
            for item in items:
                if halted:
                    results.append(
                        {
                            "statusCode": 412,
                            "result": [
                                {
                                    "errorCode": "BATCH_PROCESSING_HALTED",
                                    "message": "Batch processing halted per request",
                                }
                            ],
                        }
                    )
                    continue
                item = item if isinstance(item, dict) else {}
                # Batch urls omit /services/data/ ("v59.0/sobjects/...").
                url = "/services/data/" + str(item.get("url", "")).lstrip("/")
                response = await dispatch(
                    request.app.router,
                    request.scope,
                    str(item.get("method", "GET")),
                    url,
                    item.get("richInput"),
                )
                results.append({"statusCode": response.status, "result": response.body})
                halted = halt and response.status >= 400
        has_errors = any(r["statusCode"] >= 400 for r in results)
        return json_response({"hasErrors": has_errors, "results": results})

    add(router, f"{DATA}/composite", composite, ["POST"])
    add(router, f"{DATA}/composite/batch", batch, ["POST"])
    return router


def _entry(ref: str, response: SubResponse) -> dict[str, Any]:
    headers = {k: v for k, v in response.headers.items() if k.lower() == "location"}
    return {
        "body": response.body,
        "httpHeaders": headers,
        "httpStatusCode": response.status,
        "referenceId": ref,
    }
