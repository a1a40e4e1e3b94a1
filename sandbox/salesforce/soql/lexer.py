"""SOQL tokenizer: a hand-written scanner producing typed tokens with their positions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sandbox.salesforce.errors import SalesforceApiError


class Tok(StrEnum):
    """Token kinds."""

    IDENT = "identifier"
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    OP = "operator"
    COMMA = ","
    LPAREN = "("
    RPAREN = ")"
    COLON = ":"
    EOF = "<EOF>"


@dataclass(frozen=True, slots=True)
class Token:
    """One token; `text` is the source text (strings are unescaped), `pos` its offset."""

    kind: Tok
    text: str
    pos: int

    def upper(self) -> str:
        """The keyword form of an identifier."""
        return self.text.upper()


def malformed(
    source: str, pos: int, message: str, code: str = "MALFORMED_QUERY"
) -> SalesforceApiError:
    """MALFORMED_QUERY (or `code`) in the real layout: the query line, a caret, row/column."""
    row = source.count("\n", 0, pos) + 1
    column = pos - (source.rfind("\n", 0, pos) + 1) + 1
    line = source.splitlines()[row - 1] if source.strip() else ""
    caret = " " * (column - 1) + "^"
    return SalesforceApiError(
        400,
        code,
        f"\n{line}\n{caret}\nERROR at Row:{row}:Column:{column}\n{message}",
    )


_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "%": "\\%",
    "_": "\\_",
}
_OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">")


def tokenize(source: str) -> list[Token]:
    """Split `source` into tokens; raises MALFORMED_QUERY on a character SOQL does not allow."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char.isspace():
            i += 1
        elif char == "'":
            start = i
            text, i = _string(source, i)
            tokens.append(Token(Tok.STRING, text, start))
        elif char.isdigit() or (char in "+-" and i + 1 < n and source[i + 1].isdigit()):
            token, i = _number_or_date(source, i)
            tokens.append(token)
        elif char.isalpha() or char == "_":
            start = i
            while i < n and (source[i].isalnum() or source[i] in "_."):
                i += 1
            tokens.append(Token(Tok.IDENT, source[start:i], start))
        elif char in ",():":
            tokens.append(Token(Tok(char), char, i))
            i += 1
        else:
            op = next((o for o in _OPERATORS if source.startswith(o, i)), None)
            if op is None:
                raise malformed(source, i, f"unexpected token: '{char}'")
            tokens.append(Token(Tok.OP, "!=" if op == "<>" else op, i))
            i += len(op)
    tokens.append(Token(Tok.EOF, "<EOF>", n))
    return tokens


def _string(source: str, start: int) -> tuple[str, int]:
    out: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == "\\":
            if i + 1 >= len(source) or source[i + 1] not in _ESCAPES:
                raise malformed(source, i, "Invalid string literal: bad escape sequence")
            # \% and \_ stay escaped: they only mean something inside LIKE patterns.
            out.append(_ESCAPES[source[i + 1]])
            i += 2
        elif char == "'":
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise malformed(source, start, "unterminated string literal")


def _number_or_date(source: str, start: int) -> tuple[Token, int]:
    i = start + 1
    while i < len(source) and (source[i].isalnum() or source[i] in ".:-+"):
        # A datetime literal runs on through T, colons, the fraction and the zone.
        if source[i] in "+-" and not _in_datetime(source, start, i):
            break
        i += 1
    text = source[start:i]
    kind = _classify(text)
    if kind is None:
        raise malformed(source, start, f"unexpected token: '{text}'")
    return Token(kind, text, start), i


def _in_datetime(source: str, start: int, i: int) -> bool:
    # '-' inside YYYY-MM-DD, or a zone sign after the time part.
    head = source[start:i]
    return len(head) in (4, 7) or "T" in head


def _classify(text: str) -> Tok | None:
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and _digits(text, "-"):
        return Tok.DATE
    if len(text) > 10 and text[10] == "T" and text[4] == "-":
        return Tok.DATETIME
    body = text.lstrip("+-")
    if body.replace(".", "", 1).isdigit():
        return Tok.NUMBER
    return None


def _digits(text: str, separators: str) -> bool:
    return all(c.isdigit() or c in separators for c in text)
