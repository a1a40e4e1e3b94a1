"""Salesforce record ids: 3-character key prefix, 15 case-sensitive characters, 3-character
case-insensitive checksum (docs/crm-api-facts.md §2.2)."""

from __future__ import annotations

import itertools
import threading
from functools import lru_cache

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_CHARS = frozenset(_BASE62)
# Characters 4-5 of a real id name the pod/instance; a fixed value keeps ids readable.
_INSTANCE = "5g"


class MalformedIdError(ValueError):
    """Not a 15- or 18-character Salesforce id (maps to MALFORMED_ID)."""


@lru_cache(maxsize=1 << 16)
def _chunk_char(chunk: str) -> str:
    # One bit per upper-case letter, first character lowest (cached: chunks repeat a lot).
    bits = 0
    for position, char in enumerate(chunk):
        if "A" <= char <= "Z":
            bits |= 1 << position
    return _CHECKSUM_ALPHABET[bits]


def checksum(id15: str) -> str:
    """The 3-character suffix: per 5-character chunk, a bit per upper-case letter."""
    return _chunk_char(id15[0:5]) + _chunk_char(id15[5:10]) + _chunk_char(id15[10:15])


def to_18(record_id: str) -> str:
    """Normalise a 15- or 18-character id to its 18-character form; raise on anything else.

    An 18-character id is accepted whatever the case of its suffix (that is its point), but
    the suffix must match the first 15 characters.
    """
    if len(record_id) not in (15, 18) or not set(record_id) <= _ID_CHARS:
        raise MalformedIdError(record_id)
    id15 = record_id[:15]
    expected = checksum(id15)
    if len(record_id) == 18 and record_id[15:].upper() != expected:
        raise MalformedIdError(record_id)
    return id15 + expected


def looks_like_id(value: str) -> bool:
    """Whether `value` is a well-formed 15/18-character id."""
    try:
        to_18(value)
    except MalformedIdError:
        return False
    return True


class IdFactory:
    """Hands out 18-character ids per key prefix, in increasing order (so Id order = age)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, itertools.count[int]] = {}

    def new(self, key_prefix: str) -> str:
        """A fresh id with `key_prefix` (three characters, e.g. "003")."""
        with self._lock:
            counter = self._counters.setdefault(key_prefix, itertools.count(1))
            number = next(counter)
        digits = []
        while number:
            number, rem = divmod(number, 62)
            digits.append(_BASE62[rem])
        id15 = key_prefix + _INSTANCE + "".join(reversed(digits)).rjust(10, "0")
        return id15 + checksum(id15)
