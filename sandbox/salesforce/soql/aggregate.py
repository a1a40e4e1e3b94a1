"""Aggregate SOQL: `COUNT(f)`, `COUNT_DISTINCT(f)`, `MAX`, `MIN`, `SUM`, `AVG`, `GROUP BY`.

Results come back as `AggregateResult` records: grouped fields under their names, aggregates
under their alias or `expr0`, `expr1`, ... in select order, as the REST API returns them.
Typical use: `SELECT MAX(SystemModstamp) FROM Contact` to seed a watermark.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sandbox.salesforce.fields import NUMERIC_TYPES, FieldDef, FieldType

Getter = Callable[[dict[str, Any]], Any]
_ORDERABLE = NUMERIC_TYPES | {
    FieldType.DATE,
    FieldType.DATETIME,
    FieldType.STRING,
    FieldType.PICKLIST,
    FieldType.EMAIL,
    FieldType.PHONE,
    FieldType.URL,
    FieldType.ID,
    FieldType.REFERENCE,
}


@dataclass(frozen=True, slots=True)
class AggregateSpec:
    """One aggregate column: output name, function, and the getter of its field."""

    name: str
    func: str
    get: Getter


@dataclass(frozen=True, slots=True)
class Aggregation:
    """What an aggregate query groups by and computes; `order` sorts the groups."""

    group_names: tuple[str, ...]
    group_getters: tuple[Getter, ...]
    specs: tuple[AggregateSpec, ...]
    order: tuple[tuple[str, bool], ...]


def supports(func: str, field: FieldDef) -> bool:
    """Whether SOQL allows `func` on a field of this type."""
    if func in ("SUM", "AVG"):
        return field.type in NUMERIC_TYPES
    if func in ("MAX", "MIN"):
        return field.type in _ORDERABLE
    return True


def _compute(func: str, values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    if func == "COUNT":
        return len(present)
    if func == "COUNT_DISTINCT":
        return len(set(present))
    if not present:
        return None
    if func == "MAX":
        return max(present)
    if func == "MIN":
        return min(present)
    total = sum(present)
    return total if func == "SUM" else total / len(present)


def aggregate_rows(
    aggregation: Aggregation, rows: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Group `rows` and compute every aggregate; one AggregateResult dict per group."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        key = tuple(get(row) for get in aggregation.group_getters)
        groups.setdefault(key, []).append(row)
    if not groups and not aggregation.group_getters:
        groups[()] = []  # an ungrouped aggregate always answers one row
    results = []
    for key, members in groups.items():
        out: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        out.update(zip(aggregation.group_names, key, strict=True))
        for spec in aggregation.specs:
            out[spec.name] = _compute(spec.func, [spec.get(m) for m in members])
        results.append(out)
    for name, descending in reversed(aggregation.order):
        results.sort(key=_sort_key(name), reverse=descending)
    return results


def _sort_key(name: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    # Nulls first ascending, as in SOQL; the flag keeps None away from real values.
    def key(result: dict[str, Any]) -> tuple[bool, Any]:
        value = result[name]
        return (value is not None, value if value is not None else 0)

    return key
