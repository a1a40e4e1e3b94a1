"""Schemathesis hooks for the fuzz run (loaded by file through SCHEMATHESIS_HOOKS).

- `problem_json`: every error answer is RFC 9457 problem+json whose `status` is the HTTP status.
- Seeded ids: half the generated path parameters are swapped for ids that exist (a job, a
  webhook subscription, a revocable key), so operations are fuzzed past their 404.
- The fuzzer's own admin key is never revoked: schemathesis reuses ids it saw in responses
  (GET /v1/keys lists that key), and a revoked key would turn the rest of the run into 401s.
- Connections: half the bodies naming a `connection` name a configured one, so generated
  customers, ids and texts reach the CRM adapters (and the Salesforce SOQL) for real.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

SEEDS: dict[str, str] = json.loads(os.environ.get("CEM_FUZZ_SEEDS", "{}"))
CONNECTIONS: list[str] = json.loads(os.environ.get("CEM_FUZZ_CONNECTIONS", "[]"))
PROTECTED_KEY = os.environ.get("CEM_FUZZ_PROTECTED_KEY", "")
PROBLEM_FIELDS = ("type", "title", "status", "detail")


@schemathesis.check
def problem_json(ctx: Any, response: Any, case: Any) -> None:
    """Errors are `application/problem+json` with type, title, status and detail."""
    if response.status_code < 400:
        return
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(f"error {response.status_code} sent as {content_type!r}")
    if case.method.upper() == "HEAD":
        return  # no body to check
    try:
        body = json.loads(response.content)
    except ValueError:
        # A failure to report, not an exception inside the check (schemathesis counts those
        # as runtime errors, with less to go on).
        raise AssertionError(f"error {response.status_code} body is not JSON") from None
    missing = [name for name in PROBLEM_FIELDS if name not in body]
    if missing:
        raise AssertionError(f"problem document lacks {missing}")
    if body["status"] != response.status_code:
        raise AssertionError(f"problem status {body['status']} != HTTP {response.status_code}")
    if "Traceback" in response.text:
        raise AssertionError("a stack trace leaked into the response")


def _swappable(name: str, value: Any) -> bool:
    """Swap only a value that is already valid for the parameter, so a case generated to be
    invalid stays invalid (and a valid one stays valid)."""
    if not isinstance(value, str):
        return False
    if name == "connection":
        return 0 < len(value) <= 64
    return len(value) == len(SEEDS[name]) and all(c in "0123456789abcdef" for c in value)


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    swaps = {
        name: SEEDS[name]
        for name, value in (path_parameters or {}).items()
        if name in SEEDS and _swappable(name, value)
    }
    if not swaps:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, **swaps}])


@schemathesis.hook
def flatmap_body(context: Any, body: Any) -> Any:
    if not (isinstance(body, dict) and _swappable("connection", body.get("connection"))):
        return st.just(body)
    return st.sampled_from([body, *({**body, "connection": c} for c in CONNECTIONS)])


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if PROTECTED_KEY and (case.path_parameters or {}).get("key_id") == PROTECTED_KEY:
        case.path_parameters["key_id"] = SEEDS.get("key_id", "0" * 12)
