"""A read-only, searchable HTML view of an emulator's records, shared by both CRMs.

Each emulator implements `ViewSource` (what kinds of record it has, search, one record's fields,
tasks and timeline); `build_view_router` turns it into server-rendered pages under
`/__sandbox/view/` so a person can watch what the service writes. No JavaScript, no templates
engine: everything is escaped with `html.escape` as it is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Annotated, Protocol
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse

from sandbox.core.state import ADMIN_PREFIX

VIEW_PREFIX = f"{ADMIN_PREFIX}/view"
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class ViewKind:
    """A browsable kind of record, e.g. ("contacts", "Contacts")."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """One row of a search result."""

    id: str
    title: str
    subtitle: str = ""
    updated: str = ""


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """A task or an activity on a record's timeline."""

    at: str
    kind: str
    title: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class RelatedLink:
    """A link to another viewable record (e.g. the contact's company)."""

    kind: str
    id: str
    label: str


@dataclass(frozen=True, slots=True)
class RecordDetail:
    """Everything the detail page shows about one record."""

    id: str
    title: str
    fields: Sequence[tuple[str, str]]
    tasks: Sequence[TimelineItem] = ()
    timeline: Sequence[TimelineItem] = ()
    related: Sequence[RelatedLink] = field(default_factory=tuple)


class ViewSource(Protocol):
    """What an emulator provides to be browsable."""

    @property
    def crm_name(self) -> str:
        """Shown in page titles, e.g. "Salesforce sandbox"."""
        ...

    def kinds(self) -> Sequence[ViewKind]:
        """The browsable kinds, in menu order."""
        ...

    def search(
        self, kind: str, query: str, offset: int, limit: int
    ) -> tuple[int, Sequence[RecordSummary]]:
        """Total matches and one page of them; an empty query lists everything."""
        ...

    def detail(self, kind: str, record_id: str) -> RecordDetail | None:
        """One record, or None when it does not exist."""
        ...


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24}
header{background:#1f3a5f;color:#fff;padding:.6em 1em}header a{color:#fff;margin-right:1em}
main{padding:1em}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f5f7}.muted{color:#667}form{margin:.5em 0 1em}
.item{border-left:3px solid #1f3a5f;padding:.2em .6em;margin:.4em 0}
pre{white-space:pre-wrap;margin:.2em 0}
"""


def _page(source: ViewSource, title: str, body: str) -> HTMLResponse:
    menu = "".join(
        f'<a href="{VIEW_PREFIX}/{quote(k.key)}">{escape(k.label)}</a>' for k in source.kinds()
    )
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} · {escape(source.crm_name)}</title><style>{_STYLE}</style>"
        f"</head><body><header><strong>{escape(source.crm_name)}</strong> · {menu}</header>"
        f"<main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(html)


def _kind_or_404(source: ViewSource, kind: str) -> ViewKind:
    for known in source.kinds():
        if known.key == kind:
            return known
    raise HTTPException(status_code=404, detail=f"unknown record kind {kind!r}")


def _items(items: Sequence[TimelineItem], empty: str) -> str:
    if not items:
        return f'<p class="muted">{escape(empty)}</p>'
    return "".join(
        f'<div class="item"><span class="muted">{escape(i.at)} · {escape(i.kind)}</span>'
        f"<br><strong>{escape(i.title)}</strong><pre>{escape(i.text)}</pre></div>"
        for i in items
    )


def build_view_router(source: ViewSource) -> APIRouter:
    """Pages: index, search per kind (`?q=&page=`), and one record's detail."""
    router = APIRouter(prefix=VIEW_PREFIX, tags=["sandbox view"], include_in_schema=False)

    @router.get("", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        links = "".join(
            f'<li><a href="{VIEW_PREFIX}/{quote(k.key)}">{escape(k.label)}</a></li>'
            for k in source.kinds()
        )
        return _page(source, "Records", f"<ul>{links}</ul>")

    @router.get("/{kind}", response_class=HTMLResponse)
    async def search(
        kind: str,
        q: Annotated[str, Query(max_length=200)] = "",
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> HTMLResponse:
        known = _kind_or_404(source, kind)
        total, rows = source.search(kind, q.strip(), (page - 1) * PAGE_SIZE, PAGE_SIZE)
        body = [
            f'<form><input name=q value="{escape(q)}" placeholder="search" autofocus>'
            f"<button>Search</button></form><p class=muted>{total} match(es)</p>",
            "<table><tr><th>Name</th><th>Details</th><th>Updated</th><th>Id</th></tr>",
        ]
        for row in rows:
            href = f"{VIEW_PREFIX}/{quote(kind)}/{quote(row.id)}"
            body.append(
                f'<tr><td><a href="{href}">{escape(row.title)}</a></td>'
                f"<td>{escape(row.subtitle)}</td><td>{escape(row.updated)}</td>"
                f'<td class="muted">{escape(row.id)}</td></tr>'
            )
        body.append("</table>")
        nav = []
        if page > 1:
            nav.append(f'<a href="?{urlencode({"q": q, "page": page - 1})}">previous</a>')
        if page * PAGE_SIZE < total:
            nav.append(f'<a href="?{urlencode({"q": q, "page": page + 1})}">next</a>')
        body.append(f"<p>{' · '.join(nav)}</p>")
        return _page(source, known.label, "".join(body))

    @router.get("/{kind}/{record_id}", response_class=HTMLResponse)
    async def detail(kind: str, record_id: str) -> HTMLResponse:
        _kind_or_404(source, kind)
        record = source.detail(kind, record_id)
        if record is None:
            raise HTTPException(status_code=404, detail=f"no {kind} record {record_id!r}")
        fields = "".join(
            f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>"
            for name, value in record.fields
        )
        related = "".join(
            f'<li><a href="{VIEW_PREFIX}/{quote(r.kind)}/{quote(r.id)}">{escape(r.label)}</a></li>'
            for r in record.related
        )
        body = (
            f'<p class="muted">{escape(record.id)}</p><ul>{related}</ul>'
            f"<h2>Fields</h2><table>{fields}</table>"
            f"<h2>Tasks</h2>{_items(record.tasks, 'No tasks.')}"
            f"<h2>Timeline</h2>{_items(record.timeline, 'No activity.')}"
        )
        return _page(source, record.title, body)

    return router
