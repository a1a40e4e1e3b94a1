"""The SOQL syntax tree the parser builds and the compiler consumes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class FieldPath:
    """`Name`, or a parent relationship path such as `Account.Owner.Name`."""

    parts: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        """The path as written."""
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Value:
    """A literal value. `kind` says how it was written (string, number, date, ...)."""

    kind: Literal["string", "number", "boolean", "null", "date", "datetime", "date_literal"]
    value: object
    pos: int
    # For date literals such as LAST_N_DAYS:30, the N.
    n: int | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    """`field op value`, `field [NOT] IN (values)`, `field [NOT] LIKE 'pattern'`."""

    field: FieldPath
    op: Literal["=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "LIKE"]
    values: tuple[Value, ...]
    # A semi-join: `Id IN (SELECT ContactId FROM Case WHERE ...)`.
    subquery: Query | None = None


@dataclass(frozen=True, slots=True)
class BoolOp:
    """AND / OR of two or more conditions."""

    op: Literal["AND", "OR"]
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """NOT condition."""

    item: Condition


Condition = Comparison | BoolOp | Not


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One ORDER BY key."""

    field: FieldPath
    descending: bool
    nulls_last: bool


@dataclass(frozen=True, slots=True)
class Aggregate:
    """`MAX(SystemModstamp) latest`, `COUNT(Id)`, ...; `alias` None means exprN."""

    func: str
    field: FieldPath
    alias: str | None
    pos: int


@dataclass(frozen=True, slots=True)
class Query:
    """A SELECT statement; `subqueries` are parent-to-child relationship queries."""

    fields: tuple[FieldPath, ...]
    subqueries: tuple[Query, ...]
    source: str
    source_pos: int
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    count_only: bool
    fields_macro: str | None
    # Select-list order of plain fields and subqueries, for output order.
    select_order: tuple[FieldPath | Query, ...]
    aggregates: tuple[Aggregate, ...] = ()
    group_by: tuple[FieldPath, ...] = ()
