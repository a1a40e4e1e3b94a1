"""Reading request input the way HubSpot accepts it, with HubSpot-style 400s on bad input."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from sandbox.hubspot.auth import Grant, require_scope
from sandbox.hubspot.errors import validation_error
from sandbox.hubspot.gate import GRANT_SCOPE_KEY


async def json_body(request: Request) -> Any:
    """The parsed JSON body; 400 ``VALIDATION_ERROR`` when it is not JSON."""
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise validation_error(f"Invalid input JSON on line 1: {exc}") from None


async def json_object(request: Request) -> dict[str, Any]:
    """A JSON object body; 400 otherwise."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise validation_error("The request body must be a JSON object")
    return body


def names(request: Request, key: str) -> tuple[str, ...] | None:
    """A list query parameter in either style the API accepts: repeated keys or comma-separated
    (docs/crm-api-facts.md §1.3; the Python client repeats the key)."""
    values = request.query_params.getlist(key)
    if not values:
        return None
    out: list[str] = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(dict.fromkeys(out)) or None


def flag(request: Request, key: str) -> bool:
    """A boolean query parameter (``true``/``false``); 400 on anything else."""
    value = request.query_params.get(key)
    if value is None:
        return False
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise validation_error(f"{key} must be true or false, got {value!r}")
    return lowered == "true"


def integer(request: Request, key: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high]; 400 otherwise."""
    value = request.query_params.get(key)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise validation_error(f"{key} must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise validation_error(f"{key} must be between {low} and {high}, got {number}")
    return number


def cursor(value: Any) -> int | None:
    """An ``after`` cursor of a list (opaque to clients; our record ids); 400 when foreign."""
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError:
        raise validation_error(f"Invalid after cursor {value!r}") from None


def check_scope(request: Request, scope: str) -> None:
    """403 ``MISSING_SCOPES`` unless the caller's token holds ``scope``."""
    grant: Grant | None = request.scope.get(GRANT_SCOPE_KEY)
    if grant is not None:
        require_scope(grant, scope)


def inputs_of(body: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The ``inputs`` of a batch body; 400 over the batch limit (docs/crm-api-facts.md §3.4).

    The limit error's wording is ours; HubSpot's exact text is not documented.
    """
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise validation_error("inputs must be a list of objects")
    if len(inputs) > limit:
        raise validation_error(
            f"Too many inputs: {len(inputs)}. The maximum number of inputs per batch "
            f"request is {limit}.",
            context={"maxInputs": [str(limit)], "inputs": [str(len(inputs))]},
        )
    return inputs
