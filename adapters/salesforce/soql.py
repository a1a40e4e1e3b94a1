"""Building SOQL safely: every value goes through `literal()`, never string formatting.

SOQL has no bind parameters over REST, so quoting is ours to get right: strings are single-quoted
with backslash escapes for `\\`, `'`, `"` and control characters (Salesforce's escape rules);
datetimes are unquoted ISO-8601 in UTC; identifiers are checked against a strict pattern, since
they cannot be quoted at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}

Value = str | int | float | bool | datetime | date | None


def identifier(name: str) -> str:
    """A field or object name, refused unless it is a plain (dotted) API name."""
    if not _IDENTIFIER.match(name):
        raise ValueError("not a valid Salesforce API name")
    return name


def literal(value: Value) -> str:
    """The SOQL literal for `value`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetimes in SOQL must be timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in value) + "'"


# Clauses that may follow WHERE: a condition containing one at its top level would escape the
# parentheses it is wrapped in and change the rest of our query.
_CLAUSES = {"ORDER", "LIMIT", "OFFSET", "GROUP", "HAVING", "FOR", "UPDATE", "WITH"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def condition(text: str) -> str:
    """An admin-written WHERE condition (a mapping's `where`), refused unless self-contained:
    string literals closed, parentheses balanced, no `;` and no clause after it at its top level.
    Such a condition, wrapped in parentheses and AND-ed to ours, cannot change their meaning."""
    depth, i, top = 0, 0, []
    while i < len(text):
        char = text[i]
        if char == "'":
            i += 1
            while i < len(text) and text[i] != "'":
                i += 2 if text[i] == "\\" else 1
            if i >= len(text):
                raise ValueError("unterminated string literal")
        elif char in "()":
            depth += 1 if char == "(" else -1
            if depth < 0:
                raise ValueError("unbalanced parentheses")
        elif depth == 0:
            top.append(char)
        i += 1
    if depth:
        raise ValueError("unbalanced parentheses")
    outside = "".join(top)
    if ";" in outside or {w.upper() for w in _WORD.findall(outside)} & _CLAUSES:
        raise ValueError("only a condition may follow WHERE")
    return text


def in_list(values: Iterable[Value]) -> str:
    """`('a', 'b')` for an IN clause."""
    items = [literal(v) for v in values]
    if not items:
        raise ValueError("IN needs at least one value")
    return "(" + ", ".join(items) + ")"


def select(
    fields: Sequence[str],
    sobject: str,
    where: str | None = None,
    order_by: Sequence[str] = (),
    limit: int | None = None,
) -> str:
    """A SELECT statement from checked identifiers and a WHERE built with `literal()`."""
    columns = ", ".join(identifier(f) for f in fields)
    # Identifiers are checked above and values quoted by literal(): not an injection vector.
    query = f"SELECT {columns} FROM {identifier(sobject)}"  # noqa: S608
    if where:
        query += f" WHERE {where}"
    if order_by:
        query += " ORDER BY " + ", ".join(f"{identifier(f)} ASC" for f in order_by)
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    return query
