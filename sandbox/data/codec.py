"""JSON for records: one compact object per record, exact both ways.

Datetimes become ISO 8601 in UTC with a ``Z``; money becomes a JSON *string* holding the exact
decimal (``"1249.00"``) so no float rounding creeps in; nested line items and case comments
become arrays of objects. How each field converts is worked out once per record type from its
annotations, so encoding runs the C JSON encoder on ready values without a Python hook.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from sandbox.data.model import Record, Truth

T = TypeVar("T")


def iso(value: datetime) -> str:
    """A UTC datetime as ISO 8601 with a ``Z``."""
    return value.isoformat().replace("+00:00", "Z")


def _to_json(hint: Any) -> Callable[[Any], Any] | None:
    """How to turn a value of a field with type ``hint`` into JSON (``None``: as it is)."""
    if hint is datetime:
        return iso
    if hint is Decimal:
        return str
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        convert = _to_json(inner)
        if convert is None:
            return None
        return lambda v: None if v is None else convert(v)
    if origin is tuple:
        item = args[0]
        if is_dataclass(item) and isinstance(item, type):
            plan = _encoding_plan(item)
            return lambda v: [_as_object(x, plan) for x in v]
    return None  # str, int, float, bool, Literals and tuples of strings are JSON already


_Plan = tuple[tuple[str, Callable[[Any], Any] | None], ...]
_PLANS: dict[type, _Plan] = {}


def _encoding_plan(cls: type) -> _Plan:
    """Field names with their converters, worked out once per type from its annotations."""
    plan = _PLANS.get(cls)
    if plan is None:
        hints = get_type_hints(cls)
        plan = _PLANS[cls] = tuple((f.name, _to_json(hints[f.name])) for f in fields(cls))
    return plan


def _as_object(record: Any, plan: _Plan) -> dict[str, Any]:
    return {
        name: getattr(record, name) if convert is None else convert(getattr(record, name))
        for name, convert in plan
    }


# Values are made JSON-ready up front, so the C encoder runs without a Python ``default`` hook.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(record: Record | Truth) -> str:
    """One record as a compact JSON line (without the newline)."""
    return _ENCODER.encode(_as_object(record, _encoding_plan(type(record))))


def _parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _converter(hint: Any) -> Callable[[Any], Any] | None:
    """How to turn the JSON value of a field with type ``hint`` back into Python."""
    if hint is datetime:
        return _parse_datetime
    if hint is Decimal:
        return Decimal
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        convert = _converter(inner)
        if convert is None:
            return None
        return lambda v: None if v is None else convert(v)
    if origin is tuple:
        item = args[0]
        if is_dataclass(item) and isinstance(item, type):
            decode_item = decoder(item)
            return lambda v: tuple(decode_item(x) for x in v)
        return tuple
    return None  # str, int, float, bool and Literals are already right


_DECODERS: dict[type, Callable[[dict[str, Any]], Any]] = {}


def decoder(cls: type[T]) -> Callable[[dict[str, Any]], T]:
    """A function building ``cls`` from its decoded JSON object (built once per type)."""
    cached = _DECODERS.get(cls)
    if cached is not None:
        return cached
    hints = get_type_hints(cls)
    converters = {
        name: convert for name, hint in hints.items() if (convert := _converter(hint)) is not None
    }

    def decode_obj(obj: dict[str, Any]) -> T:
        for name, convert in converters.items():
            obj[name] = convert(obj[name])
        return cls(**obj)

    _DECODERS[cls] = decode_obj
    return decode_obj


def decode(cls: type[T], line: str) -> T:
    """The record of type ``cls`` encoded in ``line``."""
    return decoder(cls)(json.loads(line))
