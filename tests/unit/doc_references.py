"""References from the repository's text to its documentation: find the broken ones, and rewrite
the mechanical ones.

`problems()` lists, as "file:line: what", every reference a contributor who cloned the repository
could not follow: a path outside the repository (`../shared/…`), a research note that is not in
it, a `docs/*.md` file that does not exist, a `docs/<file>.md §N` citation whose section is not a
heading of that file, and a relative markdown link to a missing file.
`tests/unit/test_doc_references.py` fails on any of them.

`python -m tests.unit.doc_references --fix` rewrites the mechanical ones in place —
`../shared/docs/` → `docs/`, a bare `crm-api-facts §x` → `docs/crm-api-facts.md §x` — and re-wraps
the comments and docstrings it lengthened to ruff's line length; it prints what it could not wrap
(a trailing comment after code). Run it again after moving or merging files: it changes nothing
twice.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SUFFIXES = {".py", ".md", ".toml", ".yaml", ".yml"}
NAMES = {"Makefile", "Dockerfile"}
SKIP_DIRS = {"__pycache__", "build", "dist", "node_modules"}
# This module and its test spell out the patterns they look for.
SELF = {Path(__file__).resolve(), Path(__file__).resolve().with_name("test_doc_references.py")}

# Research notes that live outside the repository: a citation must name the in-repo doc instead.
OUTSIDE_NOTES = ("crm-api-facts", "sources-api-facts", "churn-resources", "sentiment-resources")
OUTSIDE_PATH = re.compile(r"(?:\.\./)+shared\b")
# "architecture §10" without the file: the old outside document's numbering.
BARE_ARCHITECTURE = re.compile(r"(?<![\w/.-])architecture(?:\.md)?\s+§")
MD_PATH = re.compile(r"(?<![\w./:-])((?:[\w.-]+/)*[\w-][\w.-]*\.md)(?![\w-])")
CITATION = re.compile(
    r"(?<![\w.-])docs/([\w-]+\.md)[`'\")\]]*\s*(?:(?:#|//)\s*)?\(?§(\d+(?:\.\d+)*)", re.MULTILINE
)
HEADING = re.compile(r"^#{1,6}\s+§?(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")

# The mechanical rewrite.
REWRITES = (
    (re.compile(r"(?:\.\./)+shared/docs/"), "docs/"),
    (re.compile(r"(?<![\w/.-])crm-api-facts(?:\.md)?(?![\w-])"), "docs/crm-api-facts.md"),
)
IN_DOCS_REWRITES = (
    (re.compile(r"(?:\.\./)+shared/docs/"), ""),
    (re.compile(r"(?<![\w/.-])crm-api-facts(?![\w.-])"), "crm-api-facts.md"),
)


def text_files(root: Path = ROOT) -> Iterator[Path]:
    """The repository's text files a reference can hide in (not .venv, .git or caches)."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") or part in SKIP_DIRS for part in rel.parts[:-1]):
            continue
        if rel.parts[0].startswith(".") or not path.is_file() or path.resolve() in SELF:
            continue
        if path.suffix in SUFFIXES or path.name in NAMES or path.name.startswith("Dockerfile"):
            yield path


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _names_docs(target: str) -> bool:
    """Whether a path names a file of docs/ (`docs/x.md`, `../../docs/x.md`)."""
    return target.startswith("docs/") or "/docs/" in target


def _blank(m: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", m.group(0))


class _Checker:
    """The checks of one repository tree (`root`), with its docs/ section headings cached."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.docs = self.root / "docs"
        self._sections: dict[str, set[str]] = {}

    def sections(self, doc: str) -> set[str]:
        if doc not in self._sections:
            path = self.docs / doc
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
            self._sections[doc] = set(HEADING.findall(text))
        return self._sections[doc]

    def check(self, path: Path) -> Iterator[str]:
        text = path.read_text(encoding="utf-8", errors="replace")
        rel = path.relative_to(self.root)

        def at(offset: int) -> str:
            return f"{rel}:{_line(text, offset)}"

        for m in OUTSIDE_PATH.finditer(text):
            yield f"{at(m.start())}: refers outside the repository ({m.group(0)})"
        for name in OUTSIDE_NOTES:
            inside = (self.docs / f"{name}.md").is_file()
            for m in re.finditer(rf"(?<![\w/-]){re.escape(name)}(?![\w-])", text):
                # A bare x.md is fine inside docs/ (a relative link or mention).
                if inside and path.parent == self.docs and text.startswith(".md", m.end()):
                    continue
                fix = f"cite docs/{name}.md" if inside else "not in the repository"
                yield f"{at(m.start())}: {name!r}: {fix}"
        for m in BARE_ARCHITECTURE.finditer(text):
            yield f"{at(m.start())}: cite docs/architecture.md §N"
        for m in MD_PATH.finditer(text):
            target = m.group(1)
            if _names_docs(target) and not any(
                (base / target).is_file() for base in (self.root, path.parent)
            ):
                yield f"{at(m.start())}: {target} does not exist"
        for m in CITATION.finditer(text):
            doc, section = m.group(1), m.group(2)
            if (self.docs / doc).is_file() and section not in self.sections(doc):
                yield f"{at(m.start())}: docs/{doc} has no section {section}"
        if path.suffix == ".md":
            # Code blocks and code spans are not links; blank them, keeping the line count.
            prose = INLINE_CODE.sub(_blank, FENCE.sub(_blank, text))
            for m in LINK.finditer(prose):
                target = m.group(1)
                if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                    continue
                resolved = (path.parent / target.split("#", 1)[0].split("?", 1)[0]).resolve()
                if not resolved.exists() or not resolved.is_relative_to(self.root):
                    yield f"{at(m.start())}: link to missing {target}"


def problems(root: Path = ROOT) -> list[str]:
    """Every reference in the repository's text that a contributor could not follow."""
    root = root.resolve()
    checker = _Checker(root)
    return [message for path in text_files(root) for message in checker.check(path)]


# The mechanical rewrite -------------------------------------------------------------------------


def _line_length() -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return int(config.get("tool", {}).get("ruff", {}).get("line-length", 88))


def _string_lines(source: str) -> set[int]:
    """0-based numbers of the lines inside triple-quoted strings (docstrings and the like)."""
    inside: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.STRING and re.match(r"[rbuRBU]*('''|\"\"\")", tok.string):
                inside.update(range(tok.start[0] - 1, tok.end[0]))
    except (tokenize.TokenError, SyntaxError):
        pass
    return inside


@dataclass
class _Wrap:
    prefix: str  # what starts a continuation line ("    # ", or a docstring's indentation)
    text: str  # the line without its own prefix


_LIST = re.compile(r"^(?:[-*+]|\d+[.)])\s")


def _split(line: str, limit: int, start: int) -> tuple[str, str] | None:
    """(head, tail) at the last space that keeps head within `limit`, not between a cited file
    and its section sign; None when no such space."""
    cut = line.rfind(" ", start, limit + 1)
    while cut > start:
        head, tail = line[:cut].rstrip(), line[cut + 1 :].strip()
        if not (tail.startswith("§") and head.endswith(".md")):
            return (head, tail) if head.strip() and tail else None
        cut = line.rfind(" ", start, cut)
    return None


def _comment(line: str) -> _Wrap | None:
    m = re.match(r"^(\s*#+ ?)(.*)$", line)
    if m is None:
        return None
    text = m.group(2)
    bullet = _LIST.match(text)
    return _Wrap(m.group(1) + (" " * len(bullet.group(0)) if bullet else ""), text)


def _doc(line: str) -> _Wrap:
    text = line.lstrip()
    indent = line[: len(line) - len(text)]
    body = re.sub(r'^[rbuRBU]*"""', "", text)
    bullet = _LIST.match(body)
    return _Wrap(indent + (" " * len(bullet.group(0)) if bullet else ""), text)


def _continues(nxt: str, prefix: str, comment: bool) -> bool:
    """Whether `nxt` carries on the same paragraph (so the overflow can join it)."""
    if not nxt.startswith(prefix) or not nxt.strip():
        return False
    rest = nxt[len(prefix) :]
    if not rest or rest[0].isspace() or _LIST.match(rest) or rest.startswith(("|", "```", '"""')):
        return False
    if comment:
        return nxt.lstrip().startswith("#") and not re.match(r"(noqa|type:|ruff:)", rest)
    return not nxt.lstrip().startswith("#") and rest.strip() != '"""'


def _rewrap(lines: list[str], changed: list[bool], limit: int, source: str) -> list[int]:
    """Wrap the changed lines longer than `limit`; returns the 0-based ones it could not wrap."""
    strings = _string_lines(source)
    stuck: list[int] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not changed[i] or len(line) <= limit:
            i += 1
            continue
        in_string = i in strings
        wrap = _doc(line) if in_string else _comment(line)
        split = _split(line, limit, len(wrap.prefix)) if wrap is not None else None
        if wrap is None or split is None:
            stuck.append(i)
            i += 1
            continue
        head, tail = split
        lines[i] = head
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        same_block = i + 1 in strings if in_string else True
        if '"""' not in tail and same_block and _continues(nxt, wrap.prefix, not in_string):
            lines[i + 1] = wrap.prefix + tail + " " + nxt[len(wrap.prefix) :]
            changed[i + 1] = True
        else:
            lines.insert(i + 1, wrap.prefix + tail)
            changed.insert(i + 1, True)
            strings = {n + 1 if n > i else n for n in strings} | ({i + 1} if in_string else set())
        i += 1
    return stuck


def fix_text(
    text: str, *, python: bool, limit: int, in_docs: bool = False
) -> tuple[str, list[int]]:
    """The text with the mechanical rewrites applied (and re-wrapped in Python sources); the
    1-based lines that stayed too long. Inside docs/ a sibling is named without the folder."""
    rewrites = IN_DOCS_REWRITES if in_docs else REWRITES
    lines = text.split("\n")
    changed = [False] * len(lines)
    for n, line in enumerate(lines):
        new = line
        for pattern, replacement in rewrites:
            new = pattern.sub(replacement, new)
        if new != line:
            lines[n], changed[n] = new, True
    stuck = _rewrap(lines, changed, limit, "\n".join(lines)) if python else []
    return "\n".join(lines), [n + 1 for n in stuck]


def fix(root: Path = ROOT) -> list[str]:
    """Apply the mechanical rewrite to every text file; returns "file:line" still too long."""
    root = root.resolve()
    limit = _line_length()
    left: list[str] = []
    for path in text_files(root):
        text = path.read_text(encoding="utf-8")
        in_docs = path.parent == root / "docs"
        new, stuck = fix_text(text, python=path.suffix == ".py", limit=limit, in_docs=in_docs)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote {path.relative_to(root)}")
        left += [f"{path.relative_to(root)}:{n}: too long, wrap by hand" for n in stuck]
    return left


def main(argv: list[str]) -> int:
    if argv[1:] == ["--fix"]:
        for message in fix():
            print(message)
    found = problems()
    for message in found:
        print(message)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
