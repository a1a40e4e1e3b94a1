"""Turn a parsed SOQL query into field getters, a row predicate, a sort and an output plan.

Resolution happens once per query (unknown fields fail before any row is read); the closures
then run per row. SOQL semantics kept: text comparisons are case-insensitive, `!=` and `NOT IN`
match nulls, ASC sorts nulls first and DESC last unless NULLS FIRST/LAST says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from sandbox.salesforce.errors import SalesforceApiError, invalid_field
from sandbox.salesforce.fields import ID_TYPES, NUMERIC_TYPES, TEXT_TYPES, FieldDef, FieldType
from sandbox.salesforce.ids import MalformedIdError, to_18
from sandbox.salesforce.responses import format_datetime, parse_datetime
from sandbox.salesforce.schema import ObjectDef
from sandbox.salesforce.soql.aggregate import AggregateSpec, Aggregation, supports
from sandbox.salesforce.soql.ast import BoolOp, Comparison, Condition, FieldPath, Not, Query, Value
from sandbox.salesforce.soql.dates import date_literal_range
from sandbox.salesforce.soql.lexer import malformed
from sandbox.salesforce.store import Record, SalesforceStore

Getter = Callable[[Record], Any]
Predicate = Callable[[Record], bool]
MAX_FIELDS_ALL_LIMIT = 200


@dataclass(slots=True)
class OutputNode:
    """Plain fields and nested parent relationships to render for one object level."""

    fields: list[str] = field(default_factory=list)
    parents: dict[str, tuple[str, str, OutputNode]] = field(default_factory=dict)
    children: list[tuple[str, CompiledQuery]] = field(default_factory=list)


@dataclass(slots=True)
class CompiledQuery:
    """Everything needed to run a query against the store and render its rows."""

    obj: ObjectDef
    predicate: Predicate | None
    sort_keys: list[tuple[Getter, bool, bool]]
    limit: int | None
    offset: int | None
    count_only: bool
    output: OutputNode
    # For subqueries: the child's reference field pointing at the parent.
    link_field: str | None = None
    aggregation: Aggregation | None = None


class _Compiler:
    def __init__(self, source: str, store: SalesforceStore, now: datetime) -> None:
        self.source = source
        self.store = store
        self.schema = store.schema
        self.now = now

    # ---- field resolution ----------------------------------------------------------------

    def resolve(self, obj: ObjectDef, path: FieldPath) -> tuple[FieldDef, Getter]:
        """The final field of `path` and a getter following parent relationships."""
        *rels, last = path.parts
        hops: list[str] = []
        current: list[ObjectDef] = [obj]
        for rel in rels:
            ref = _first(o.relationship(rel) for o in current)
            if ref is None:
                raise self.bad_field(path, obj)
            hops.append(ref.name)
            current = [t for name in ref.reference_to if (t := self.schema.find(name))]
        final = _first(o.find(last) for o in current)
        if final is None:
            raise self.bad_field(path, obj)
        return final, self._getter(hops, final.name)

    def bad_field(self, path: FieldPath, obj: ObjectDef) -> Exception:
        error = invalid_field(path.text, obj.name)
        return malformed(self.source, path.pos, error.message, "INVALID_FIELD")

    def _getter(self, hops: list[str], name: str) -> Getter:
        if not hops:
            return lambda record: record.get(name)
        get_any = self.store.get_any

        def follow(record: Record) -> Any:
            current: Record | None = record
            for hop in hops:
                target = current.get(hop) if current is not None else None
                found = get_any(target) if target else None
                current = found[1] if found else None
                if current is None:
                    return None
            return current.get(name) if current is not None else None

        return follow

    # ---- query ---------------------------------------------------------------------------

    def query(self, query: Query, obj: ObjectDef, link_field: str | None = None) -> CompiledQuery:
        if query.aggregates or query.group_by:
            return self.aggregate_query(query, obj)
        if query.fields_macro is not None:
            if query.fields_macro != "STANDARD" and (
                query.limit is None or query.limit > MAX_FIELDS_ALL_LIMIT
            ):
                raise malformed(
                    self.source,
                    query.source_pos,
                    "The SOQL FIELDS function must have a LIMIT of at most 200",
                )
            output = OutputNode(fields=[f.name for f in obj.fields.values() if _in_macro(f, query)])
        else:
            output = OutputNode()
            for item in query.select_order:
                if isinstance(item, Query):
                    self.subquery(item, obj, output)
                else:
                    self.add_output(obj, item, output)
        sort_keys = []
        for order in query.order_by:
            field_def, getter = self.resolve(obj, order.field)
            sort_keys.append((_normalising(getter, field_def), order.descending, order.nulls_last))
        return CompiledQuery(
            obj=obj,
            predicate=self.condition(query.where, obj) if query.where else None,
            sort_keys=sort_keys,
            limit=query.limit,
            offset=query.offset,
            count_only=query.count_only,
            output=output,
            link_field=link_field,
        )

    def aggregate_query(self, query: Query, obj: ObjectDef) -> CompiledQuery:
        grouped = {p.text.lower() for p in query.group_by}
        for plain in query.fields:
            if plain.text.lower() not in grouped:
                raise malformed(
                    self.source, plain.pos, f"Field must be grouped or aggregated: {plain.text}"
                )
        if query.subqueries or query.fields_macro:
            raise malformed(self.source, query.source_pos, "aggregate queries cannot nest queries")
        group_names, group_getters = [], []
        for path in query.group_by:
            field_def, getter = self.resolve(obj, path)
            group_names.append(field_def.name)
            group_getters.append(getter)
        specs: list[AggregateSpec] = []
        unnamed = 0
        for item in query.aggregates:
            field_def, getter = self.resolve(obj, item.field)
            if not supports(item.func, field_def):
                raise malformed(
                    self.source,
                    item.pos,
                    f"field {item.field.text} does not support aggregate operator {item.func}",
                )
            name = item.alias
            if name is None:
                name, unnamed = f"expr{unnamed}", unnamed + 1
            specs.append(AggregateSpec(name, item.func, getter))
        output_names = {n.lower(): n for n in [*group_names, *(s.name for s in specs)]}
        order: list[tuple[str, bool]] = []
        for order_item in query.order_by:
            name = output_names.get(order_item.field.text.lower())
            if name is None:
                raise malformed(
                    self.source,
                    order_item.field.pos,
                    f"Ordered field must be grouped or aggregated: {order_item.field.text}",
                )
            order.append((name, order_item.descending))
        return CompiledQuery(
            obj=obj,
            predicate=self.condition(query.where, obj) if query.where else None,
            sort_keys=[],
            limit=query.limit,
            offset=query.offset,
            count_only=False,
            output=OutputNode(),
            aggregation=Aggregation(
                tuple(group_names), tuple(group_getters), tuple(specs), tuple(order)
            ),
        )

    def add_output(self, obj: ObjectDef, path: FieldPath, node: OutputNode) -> None:
        self.resolve(obj, path)  # validates the whole path
        current_objs = [obj]
        for rel in path.parts[:-1]:
            ref = _first(o.relationship(rel) for o in current_objs)
            assert ref is not None
            assert ref.relationship_name is not None
            key = ref.relationship_name.lower()
            if key not in node.parents:
                node.parents[key] = (ref.relationship_name, ref.name, OutputNode())
            node = node.parents[key][2]
            current_objs = [t for name in ref.reference_to if (t := self.schema.find(name))]
        final = _first(o.find(path.parts[-1]) for o in current_objs)
        assert final is not None
        if final.name not in node.fields:
            node.fields.append(final.name)

    def subquery(self, query: Query, parent: ObjectDef, node: OutputNode) -> None:
        relation = parent.child(query.source)
        if relation is None:
            raise malformed(
                self.source,
                query.source_pos,
                f"Didn't understand relationship '{query.source}' in FROM part of query call. "
                "If you are attempting to use a custom relationship, be sure to append the '__r' "
                "after the custom relationship name.",
                "INVALID_TYPE",
            )
        child = self.schema.object(relation.child)
        node.children.append((relation.name, self.query(query, child, relation.field)))

    # ---- conditions ----------------------------------------------------------------------

    def condition(self, cond: Condition, obj: ObjectDef) -> Predicate:
        if isinstance(cond, BoolOp):
            parts = [self.condition(c, obj) for c in cond.items]
            if cond.op == "AND":
                return lambda r: all(p(r) for p in parts)
            return lambda r: any(p(r) for p in parts)
        if isinstance(cond, Not):
            inner = self.condition(cond.item, obj)
            return lambda r: not inner(r)
        return self.comparison(cond, obj)

    def comparison(self, cmp: Comparison, obj: ObjectDef) -> Predicate:
        field_def, raw_get = self.resolve(obj, cmp.field)
        get = _normalising(raw_get, field_def)
        op = cmp.op
        if op == "LIKE":
            if field_def.type not in TEXT_TYPES | ID_TYPES:
                raise self.type_error(cmp, field_def, "LIKE")
            pattern = _like_regex(str(cmp.values[0].value))
            return lambda r: (v := get(r)) is not None and pattern.fullmatch(v) is not None
        if op in ("IN", "NOT IN") and cmp.subquery is not None:
            keys = self.semi_join(cmp, field_def)
        elif op in ("IN", "NOT IN"):
            keys = {self.literal(v, field_def, cmp) for v in cmp.values}
        if op in ("IN", "NOT IN"):
            if op == "IN":
                return lambda r: (v := get(r)) is not None and v in keys
            return lambda r: (v := get(r)) is None or v not in keys
        value = cmp.values[0]
        if value.kind == "date_literal":
            return self.date_range(cmp, field_def, get, value)
        lit = self.literal(value, field_def, cmp)
        if lit is None:
            if op == "=":
                return lambda r: get(r) is None
            if op == "!=":
                return lambda r: get(r) is not None
            return lambda r: False
        if op == "!=":
            return lambda r: (v := get(r)) is None or v != lit
        compare = _COMPARE[op]
        return lambda r: (v := get(r)) is not None and compare(v, lit)

    def semi_join(self, cmp: Comparison, field_def: FieldDef) -> set[Any]:
        """The ids the inner query selects (one id/reference field, as SOQL requires)."""
        sub = cmp.subquery
        assert sub is not None
        if field_def.type not in ID_TYPES:
            raise malformed(
                self.source,
                cmp.field.pos,
                f"Semi join sub-selects are only allowed on id fields, not {cmp.field.text}",
                "INVALID_QUERY_FILTER_OPERATOR",
            )
        inner_obj = self.schema.object(sub.source)
        if len(sub.fields) != 1 or sub.subqueries or sub.count_only or sub.fields_macro:
            raise malformed(
                self.source, sub.source_pos, "a semi join sub-select selects exactly one id field"
            )
        inner_field, inner_get = self.resolve(inner_obj, sub.fields[0])
        if inner_field.type not in ID_TYPES:
            raise malformed(
                self.source,
                sub.fields[0].pos,
                f"Semi join sub-selects can only select an id field, not {sub.fields[0].text}",
                "INVALID_QUERY_FILTER_OPERATOR",
            )
        predicate = self.condition(sub.where, inner_obj) if sub.where else None
        return {
            value
            for record in self.store.rows(inner_obj)
            if (predicate is None or predicate(record)) and (value := inner_get(record))
        }

    def date_range(
        self, cmp: Comparison, field_def: FieldDef, get: Getter, value: Value
    ) -> Predicate:
        if field_def.type not in (FieldType.DATE, FieldType.DATETIME):
            raise self.type_error(cmp, field_def, field_def.type.value)
        start_day, end_day = date_literal_range(str(value.value), value.n, self.now)
        if field_def.type is FieldType.DATE:
            start, end = start_day.isoformat(), end_day.isoformat()
        else:
            start = format_datetime(datetime.combine(start_day, time(), UTC))
            end = format_datetime(datetime.combine(end_day, time(), UTC))
        tests: dict[str, Callable[[str], bool]] = {
            "=": lambda v: start <= v < end,
            "!=": lambda v: not start <= v < end,
            "<": lambda v: v < start,
            "<=": lambda v: v < end,
            ">": lambda v: v >= end,
            ">=": lambda v: v >= start,
        }
        if cmp.op not in tests:
            raise malformed(self.source, value.pos, f"unexpected token: '{value.value}'")
        test = tests[cmp.op]
        return lambda r: (v := get(r)) is not None and test(v)

    def literal(self, value: Value, field_def: FieldDef, cmp: Comparison) -> Any:
        """The literal in the stored (normalised) form of `field_def`, or a typed error."""
        kind = value.kind
        ftype = field_def.type
        if kind == "null":
            return None
        if ftype in ID_TYPES and kind == "string":
            try:
                return to_18(str(value.value))
            except MalformedIdError:
                raise malformed(
                    self.source,
                    value.pos,
                    f"invalid ID field: {value.value}",
                    "INVALID_QUERY_FILTER_OPERATOR",
                ) from None
        if ftype in TEXT_TYPES and kind == "string":
            return str(value.value).lower()
        if ftype is FieldType.BOOLEAN and kind == "boolean":
            return value.value
        if ftype in NUMERIC_TYPES and kind == "number":
            return value.value
        if ftype is FieldType.DATE and kind == "date":
            return value.value
        if ftype is FieldType.DATETIME and kind == "datetime":
            try:
                return format_datetime(parse_datetime(str(value.value)))
            except ValueError:
                raise malformed(
                    self.source, value.pos, f"invalid datetime: {value.value}"
                ) from None
        raise self.type_error(cmp, field_def, _TYPE_WORDS.get(ftype, ftype.value))

    def type_error(self, cmp: Comparison, field_def: FieldDef, expected: str) -> Exception:
        quoted = field_def.type in TEXT_TYPES | ID_TYPES
        hint = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return malformed(
            self.source,
            cmp.values[0].pos if cmp.values else cmp.field.pos,
            f"value of filter criterion for field '{cmp.field.text}' must be of type {expected} "
            f"and {hint}",
            "INVALID_FIELD",
        )


_TYPE_WORDS = {FieldType.DATETIME: "dateTime", FieldType.CURRENCY: "double"}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _first(items: Any) -> Any:
    return next((i for i in items if i is not None), None)


def _in_macro(f: FieldDef, query: Query) -> bool:
    if query.fields_macro == "CUSTOM":
        return f.custom
    if query.fields_macro == "STANDARD":
        return not f.custom
    return True


def _normalising(getter: Getter, field_def: FieldDef) -> Getter:
    """Text compares case-insensitively in SOQL: compare lower-cased values.

    Ids are left alone: stored and literal ids are both canonical 18-character ids, and their
    case-sensitive order is creation order.
    """
    if field_def.type in TEXT_TYPES:

        def lowered(record: Record) -> Any:
            value = getter(record)
            return value.lower() if isinstance(value, str) else value

        return lowered
    return getter


def _like_regex(pattern: str) -> re.Pattern[str]:
    # % is any run, _ one character; \% and \_ are literal (the lexer kept them escaped).
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "%_":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def compile_query(
    query: Query, source: str, store: SalesforceStore, now: datetime
) -> CompiledQuery:
    """Resolve `query` against the store's schema; raises INVALID_TYPE / INVALID_FIELD."""
    compiler = _Compiler(source, store, now)
    try:
        obj = store.schema.object(query.source)
    except SalesforceApiError as exc:
        raise malformed(source, query.source_pos, exc.message, exc.error_code) from None
    return compiler.query(query, obj)
