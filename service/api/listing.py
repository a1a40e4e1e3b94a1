"""What every list endpoint shares: the cursor and limit parameters and the bad-cursor problem.

Lists are keyset-paginated (`service/store/paging.py`): a client follows `next_cursor` until it is
null; a cursor is only valid with the sort order it was made for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

from fastapi import Query

from service.api.problems import ProblemError
from service.store.paging import BadCursorError

Cursor = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page; omit for the first."),
]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]


class CreatedSort(StrEnum):
    """Newest or oldest first, for lists whose only useful order is time."""

    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"


@contextmanager
def cursor_problems() -> Iterator[None]:
    """A cursor the API did not hand out (or made for another sort) is the client's 400."""
    try:
        yield
    except BadCursorError as error:
        raise ProblemError(400, str(error), kind="bad-cursor") from None
