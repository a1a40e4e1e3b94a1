"""CRM search: filterGroups, one sort, free-text query, offset paging with the 10,000 cap.

Semantics and limits from docs/crm-api-facts.md §3.5: filters in a group are AND-ed, groups OR-ed;
at most 5 groups, 10 filters per group, 25 in total; page size default 10, at most 200; ``after``
is an offset and paging to 10,000 or beyond is a 400 (the cap clients must restart around,
item 18 of §5). Search reads the *index*, which trails the store by the configured lag.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fnmatch import fnmatchcase
from typing import Any

from sandbox.hubspot.errors import validation_error
from sandbox.hubspot.objecttypes import ObjectType, object_type
from sandbox.hubspot.properties import PropertyDef, PropertyRegistry
from sandbox.hubspot.timefmt import iso, parse_date, parse_instant

MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 10, 25
DEFAULT_LIMIT, MAX_LIMIT, RESULT_CAP = 10, 200, 10_000
_TOKEN = re.compile(r"[\w@.*+-]+", re.UNICODE)
# Properties the free-text ``query`` looks at, per type (HubSpot searches "default searchable
# properties": names, email, phone, domain ...).
_QUERY_FIELDS: dict[str, tuple[str, ...]] = {
    "contacts": ("firstname", "lastname", "email", "phone", "company", "hs_object_id"),
    "companies": ("name", "domain", "phone", "website", "hs_object_id"),
    "deals": ("dealname", "hs_object_id"),
    "tickets": ("subject", "content", "hs_object_id"),
}
Predicate = Callable[[dict[str, str]], bool]


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A validated search body."""

    groups: tuple[tuple[Predicate, ...], ...]
    sort_property: str
    descending: bool
    query: str
    properties: tuple[str, ...] | None
    limit: int
    after: int
    signature: str  # filters, sort and text: what the matches depend on (the cache key)
    cacheable: bool = True  # False when matches depend on associations, which the index lacks


AssociatedIds = Callable[[ObjectType, str], frozenset[int]]
"""Ids of ``otype``'s records associated with one record given as (its type, its id)."""


def parse_request(
    body: Any,
    otype: ObjectType,
    registry: PropertyRegistry,
    associated: AssociatedIds | None = None,
) -> SearchRequest:
    """Validate a search body; 400 ``VALIDATION_ERROR`` with the reason otherwise."""
    if not isinstance(body, dict):
        raise validation_error("Search body must be a JSON object")
    groups_raw = body.get("filterGroups") or []
    if not isinstance(groups_raw, list):
        raise validation_error("filterGroups must be a list")
    total = sum(len(g.get("filters") or []) for g in groups_raw if isinstance(g, dict))
    if (
        len(groups_raw) > MAX_GROUPS
        or total > MAX_FILTERS
        or any(
            isinstance(g, dict) and len(g.get("filters") or []) > MAX_FILTERS_PER_GROUP
            for g in groups_raw
        )
    ):
        raise validation_error(
            f"Too many filters: at most {MAX_GROUPS} filterGroups, {MAX_FILTERS_PER_GROUP} "
            f"filters per group and {MAX_FILTERS} filters in total are allowed "
            f"(got {len(groups_raw)} groups, {total} filters).",
            sub_category="VALIDATION_ERROR.TOO_MANY_FILTERS",
        )
    groups = tuple(
        tuple(_filter(f, otype, registry, associated) for f in _filters_of(g)) for g in groups_raw
    )
    sort_property, descending = _sort(body.get("sorts"), otype, registry)
    limit = _int(body.get("limit", DEFAULT_LIMIT), "limit")
    if not 1 <= limit <= MAX_LIMIT:
        raise validation_error(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    after = _int(body.get("after") or 0, "after")
    if after < 0:
        raise validation_error("after must not be negative")
    if after >= RESULT_CAP:
        raise validation_error(
            f"Search results are capped at {RESULT_CAP}: cannot page to after={after}. "
            "Narrow the filters (e.g. move a lastmodifieddate watermark) instead.",
        )
    props = body.get("properties")
    if props is not None and not (
        isinstance(props, list) and all(isinstance(p, str) for p in props)
    ):
        raise validation_error("properties must be a list of property names")
    query = body.get("query") or ""
    if not isinstance(query, str):
        raise validation_error("query must be a string")
    signature = json.dumps(
        [groups_raw, sort_property, descending, query], sort_keys=True, default=str
    )
    return SearchRequest(
        groups,
        sort_property,
        descending,
        query,
        tuple(props) if props else None,
        limit,
        after,
        signature,
        cacheable=not any(
            str(f.get("propertyName", "")).startswith("associations.")
            for g in groups_raw
            for f in _filters_of(g)
        ),
    )


Hit = tuple[int, dict[str, str]]


def ordered_matches(
    request: SearchRequest,
    otype: ObjectType,
    registry: PropertyRegistry,
    index: dict[int, dict[str, str]],
) -> list[Hit]:
    """Every match of the request in the index, in the requested order."""
    match = _matcher(request, otype)
    hits = [(i, v) for i, v in index.items() if match(v)]
    name = request.sort_property
    key = _sort_key(registry.get(otype, name), name)
    present = [h for h in hits if name in h[1]]
    missing = [h for h in hits if name not in h[1]]
    present.sort(key=lambda h: (key(h[1]), h[0]), reverse=request.descending)
    missing.sort(key=lambda h: h[0])
    return present + missing  # records without the sort property come last either way


def _matcher(request: SearchRequest, otype: ObjectType) -> Predicate:
    groups = [g for g in request.groups if g]
    words = [w for w in _TOKEN.findall(request.query.lower()) if w]
    fields = _QUERY_FIELDS.get(otype.name, ("hs_object_id",))

    def text_ok(v: dict[str, str]) -> bool:
        text = " ".join(v.get(f, "") for f in fields).lower()
        return all(w in text for w in words)

    if len(groups) == 1 and len(groups[0]) == 1 and not words:
        return groups[0][0]  # the common case (one watermark filter): no wrapper calls
    if not groups:
        return text_ok if words else (lambda v: True)
    return lambda v: any(all(p(v) for p in g) for g in groups) and (not words or text_ok(v))


class SearchCache:
    """Ordered results of recent queries per index version, so paging a query costs one scan.

    Keyed by (object type, index version, the query's filters/sorts/text); a write that reaches
    the index bumps the version, so a cached order is never staler than the index itself.
    """

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, int, str], list[Hit]] = OrderedDict()

    def page(
        self,
        request: SearchRequest,
        otype: ObjectType,
        registry: PropertyRegistry,
        index: dict[int, dict[str, str]],
        version: int,
    ) -> tuple[int, list[Hit]]:
        """(total matches, the requested page)."""
        window = slice(request.after, request.after + request.limit)
        if not request.cacheable:
            fresh = ordered_matches(request, otype, registry, index)
            return len(fresh), fresh[window]
        key = (otype.name, version, request.signature)
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
        ordered = cached
        if ordered is None:
            ordered = ordered_matches(request, otype, registry, index)
            with self._lock:
                self._entries[key] = ordered
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        return len(ordered), ordered[window]

    def clear(self) -> None:
        """Forget every cached order."""
        with self._lock:
            self._entries.clear()


def _filters_of(group: Any) -> list[dict[str, Any]]:
    if not isinstance(group, dict) or not isinstance(group.get("filters", []), list):
        raise validation_error("each filterGroup must be an object with a filters list")
    filters = group.get("filters") or []
    if not all(isinstance(f, dict) for f in filters):
        raise validation_error("each filter must be an object")
    return list(filters)


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise validation_error(f"{name} must be an integer, got {value!r}") from None


def _sort(raw: Any, otype: ObjectType, registry: PropertyRegistry) -> tuple[str, bool]:
    if not raw:
        return "hs_object_id", False
    if not isinstance(raw, list) or len(raw) != 1:
        raise validation_error("Exactly one sort is supported by CRM search")
    item = raw[0]
    # hubspot-api-client types sorts as list[str]; the API takes {propertyName, direction}
    # objects, and "prop" / "-prop" strings are accepted as ascending / descending.
    if isinstance(item, str):
        name, descending = item.lstrip("-"), item.startswith("-")
    elif isinstance(item, dict) and isinstance(item.get("propertyName"), str):
        direction = str(item.get("direction", "ASCENDING")).upper()
        if direction not in ("ASCENDING", "DESCENDING"):
            raise validation_error(f"Invalid sort direction {direction!r}")
        name, descending = item["propertyName"], direction == "DESCENDING"
    else:
        raise validation_error("A sort needs a propertyName")
    if registry.get(otype, name) is None:
        raise validation_error(
            f'Property "{name}" does not exist', sub_category="PROPERTY_DOESNT_EXIST"
        )
    return name, descending


def _sort_key(prop: PropertyDef | None, name: str) -> Callable[[dict[str, str]], Any]:
    if prop is None:
        return lambda v: v.get(name, "").lower()
    stored = _stored(prop)
    return lambda v: stored(v.get(name, "0" if prop.type == "number" else ""))


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _normaliser(prop: PropertyDef | None) -> Callable[[Any], Any]:
    """Turn a filter value into something comparable with the stored string."""
    kind = prop.type if prop is not None else "string"
    if kind == "number":

        def number(raw: Any) -> Decimal:
            found = _decimal(raw)
            if found is None:
                raise ValueError(f"{raw!r} is not a number")
            return found

        return number
    if kind == "datetime":
        return lambda raw: iso(parse_instant(raw))
    if kind == "date":
        return lambda raw: parse_date(raw).isoformat()
    if kind == "bool":
        return lambda raw: str(raw).lower()
    return lambda raw: str(raw).lower()


def _stored(prop: PropertyDef) -> Callable[[str], Any]:
    """How a stored (already normalised) value is compared with a filter value."""
    if prop.type == "number":
        return Decimal
    if prop.type in ("datetime", "date"):
        return str  # ISO strings in one format compare chronologically
    return str.lower  # string equality in search is case-insensitive


def _association_filter(
    name: str, op: str, raw: dict[str, Any], associated: AssociatedIds | None
) -> Predicate:
    """``associations.contact EQ 123``: records associated with contact 123 (HubSpot's
    pseudo-property for searching engagements and deals by the record they hang on)."""
    other = object_type(name.removeprefix("associations."))
    if associated is None or op not in ("EQ", "IN"):
        raise validation_error(f"Operator {op} is not supported on {name}; use EQ or IN")
    keys = raw.get("values") if op == "IN" else [raw.get("value")]
    if not isinstance(keys, list) or not all(isinstance(k, str | int) for k in keys):
        raise validation_error(f"Filter on {name} needs record ids")
    ids: frozenset[int] = frozenset().union(*(associated(other, str(k)) for k in keys))
    return lambda v: int(v["hs_object_id"]) in ids


def _filter(
    raw: dict[str, Any],
    otype: ObjectType,
    registry: PropertyRegistry,
    associated: AssociatedIds | None = None,
) -> Predicate:
    name, op = raw.get("propertyName"), str(raw.get("operator", "EQ")).upper()
    if isinstance(name, str) and name.startswith("associations."):
        return _association_filter(name, op, raw, associated)
    if not isinstance(name, str):
        raise validation_error("A filter needs a propertyName")
    prop = registry.get(otype, name)
    if prop is None:
        raise validation_error(
            f'Property "{name}" does not exist', sub_category="PROPERTY_DOESNT_EXIST"
        )
    norm = _normaliser(prop)
    stored = _stored(prop)

    def need(key: str) -> Any:
        if raw.get(key) is None:
            raise validation_error(f"Operator {op} on {name} needs '{key}'")
        try:
            return norm(raw[key])
        except ValueError as exc:
            raise validation_error(f"Invalid filter value for {name}: {exc}") from None

    if op == "HAS_PROPERTY":
        return lambda v: v.get(name) not in (None, "")
    if op == "NOT_HAS_PROPERTY":
        return lambda v: v.get(name) in (None, "")
    if op in ("IN", "NOT_IN"):
        values = raw.get("values")
        if not isinstance(values, list):
            raise validation_error(f"Operator {op} on {name} needs 'values'")
        try:
            wanted = {norm(x) for x in values}
        except ValueError as exc:
            raise validation_error(f"Invalid filter value for {name}: {exc}") from None
        inside = op == "IN"
        return lambda v: (name in v and stored(v[name]) in wanted) == inside
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = str(raw.get("value", "")).lower()
        contains = op == "CONTAINS_TOKEN"

        def token_match(v: dict[str, str]) -> bool:
            text = v.get(name, "").lower()
            found = fnmatchcase(text, pattern) or any(
                fnmatchcase(t, pattern) for t in _TOKEN.findall(text)
            )
            return found == contains

        return token_match
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "EQ": lambda a, b: a == b,
        "NEQ": lambda a, b: a != b,
        "LT": lambda a, b: a < b,
        "LTE": lambda a, b: a <= b,
        "GT": lambda a, b: a > b,
        "GTE": lambda a, b: a >= b,
    }
    if op == "BETWEEN":
        low, high = need("value"), need("highValue")
        return lambda v: name in v and low <= stored(v[name]) <= high
    compare = comparisons.get(op)
    if compare is None:
        raise validation_error(f"Unknown filter operator {op!r}")
    target = need("value")
    if op == "NEQ":
        return lambda v: name not in v or compare(stored(v[name]), target)
    return lambda v: name in v and compare(stored(v[name]), target)
