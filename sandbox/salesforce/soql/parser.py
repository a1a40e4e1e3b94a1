"""Recursive-descent parser for the SOQL subset.

query      := SELECT select FROM ident [WHERE cond] [ORDER BY order (, order)*]
              [LIMIT n] [OFFSET n]
select     := COUNT() | FIELDS(ALL|STANDARD|CUSTOM) | item (, item)*
item       := path | '(' query ')'
cond       := unary ((AND unary)* | (OR unary)*)     -- mixing needs parentheses, as in SOQL
unary      := NOT unary | '(' cond ')' | comparison
comparison := path op value | path [NOT] IN '(' value (, value)* ')' | path LIKE string
value      := string | number | TRUE | FALSE | NULL | date | datetime | DATE_LITERAL[:n]
"""

from __future__ import annotations

from typing import Literal, cast

from sandbox.salesforce.soql.ast import (
    Aggregate,
    BoolOp,
    Comparison,
    Condition,
    FieldPath,
    Not,
    OrderItem,
    Query,
    Value,
)
from sandbox.salesforce.soql.lexer import Tok, Token, malformed, tokenize

# Date literals without and with the ":n" argument (docs/crm-api-facts.md §2.3).
DATE_LITERALS = frozenset(
    {
        "TODAY",
        "YESTERDAY",
        "TOMORROW",
        "THIS_WEEK",
        "LAST_WEEK",
        "NEXT_WEEK",
        "THIS_MONTH",
        "LAST_MONTH",
        "NEXT_MONTH",
        "THIS_YEAR",
        "LAST_YEAR",
        "NEXT_YEAR",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
    }
)
DATE_LITERALS_N = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_MONTHS"})
_RESERVED = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "ORDER",
        "BY",
        "LIMIT",
        "OFFSET",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "NULL",
        "TRUE",
        "FALSE",
        "GROUP",
    }
)
MAX_OFFSET = 2000
AGGREGATES = frozenset({"COUNT", "COUNT_DISTINCT", "MAX", "MIN", "SUM", "AVG"})
# Deeper nesting than any real filter; refused before Python's recursion limit is reached.
MAX_NESTING = 50


def parse(source: str) -> Query:
    """Parse a whole SOQL statement."""
    if not source.strip():
        raise malformed(source, 0, "unexpected token: <EOF>")
    parser = _Parser(source, tokenize(source))
    query = parser.query()
    parser.expect(Tok.EOF)
    return query


class _Parser:
    def __init__(self, source: str, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    # ---- token helpers -------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, token: Token | None = None) -> Exception:
        token = token or self.tok
        return malformed(self.source, token.pos, f"unexpected token: '{token.text}'")

    def expect(self, kind: Tok) -> Token:
        if self.tok.kind is not kind:
            raise self.error()
        return self.advance()

    def is_keyword(self, *words: str) -> bool:
        return self.tok.kind is Tok.IDENT and self.tok.upper() in words

    def keyword(self, word: str) -> Token:
        if not self.is_keyword(word):
            raise self.error()
        return self.advance()

    # ---- grammar -------------------------------------------------------------------------

    def query(self) -> Query:
        self.keyword("SELECT")
        fields: list[FieldPath] = []
        subqueries: list[Query] = []
        order: list[FieldPath | Query] = []
        count_only = False
        macro: str | None = None
        aggregates: list[Aggregate] = []
        if (
            self.is_keyword("COUNT")
            and self.tokens[self.i + 1].kind is Tok.LPAREN
            and self.tokens[self.i + 2].kind is Tok.RPAREN
        ):
            self.advance()
            self.expect(Tok.LPAREN)
            self.expect(Tok.RPAREN)
            count_only = True
        elif self.is_keyword("FIELDS") and self.tokens[self.i + 1].kind is Tok.LPAREN:
            self.advance()
            self.expect(Tok.LPAREN)
            word = self.expect(Tok.IDENT)
            if word.upper() not in ("ALL", "STANDARD", "CUSTOM"):
                raise self.error(word)
            macro = word.upper()
            self.expect(Tok.RPAREN)
        else:
            while True:
                if self.tok.kind is Tok.LPAREN:
                    self.advance()
                    sub = self.query()
                    self.expect(Tok.RPAREN)
                    subqueries.append(sub)
                    order.append(sub)
                elif self.tok.upper() in AGGREGATES and self.tokens[self.i + 1].kind is Tok.LPAREN:
                    aggregates.append(self.aggregate())
                else:
                    path = self.path()
                    fields.append(path)
                    order.append(path)
                if self.tok.kind is not Tok.COMMA:
                    break
                self.advance()
        self.keyword("FROM")
        source_tok = self.expect(Tok.IDENT)
        where = None
        if self.is_keyword("WHERE"):
            self.advance()
            where = self.condition()
        group_by: list[FieldPath] = []
        if self.is_keyword("GROUP"):
            self.advance()
            self.keyword("BY")
            group_by.append(self.path())
            while self.tok.kind is Tok.COMMA:
                self.advance()
                group_by.append(self.path())
        order_by: list[OrderItem] = []
        if self.is_keyword("ORDER"):
            self.advance()
            self.keyword("BY")
            order_by.append(self.order_item())
            while self.tok.kind is Tok.COMMA:
                self.advance()
                order_by.append(self.order_item())
        limit = self.int_clause("LIMIT")
        offset = self.int_clause("OFFSET")
        if offset is not None and offset > MAX_OFFSET:
            raise malformed(self.source, 0, f"Maximum SOQL offset allowed is {MAX_OFFSET}")
        return Query(
            fields=tuple(fields),
            subqueries=tuple(subqueries),
            source=source_tok.text,
            source_pos=source_tok.pos,
            where=where,
            order_by=tuple(order_by),
            limit=limit,
            offset=offset,
            count_only=count_only,
            fields_macro=macro,
            select_order=tuple(order),
            aggregates=tuple(aggregates),
            group_by=tuple(group_by),
        )

    def aggregate(self) -> Aggregate:
        func = self.advance()
        self.expect(Tok.LPAREN)
        path = self.path()
        self.expect(Tok.RPAREN)
        alias = None
        if self.tok.kind is Tok.IDENT and self.tok.upper() not in _RESERVED:
            alias = self.advance().text
        return Aggregate(func.upper(), path, alias, func.pos)

    def int_clause(self, word: str) -> int | None:
        if not self.is_keyword(word):
            return None
        self.advance()
        token = self.expect(Tok.NUMBER)
        if not token.text.isdigit():
            raise self.error(token)
        return int(token.text)

    def path(self) -> FieldPath:
        token = self.expect(Tok.IDENT)
        if token.upper() in _RESERVED:
            raise self.error(token)
        parts = tuple(token.text.split("."))
        if any(not p for p in parts):
            raise self.error(token)
        return FieldPath(parts, token.pos)

    def order_item(self) -> OrderItem:
        path = self.path()
        descending = False
        if self.is_keyword("ASC", "DESC"):
            descending = self.advance().upper() == "DESC"
        nulls_last = descending  # Salesforce: ASC puts nulls first, DESC puts them last.
        if self.is_keyword("NULLS"):
            self.advance()
            if not self.is_keyword("FIRST", "LAST"):
                raise self.error()
            nulls_last = self.advance().upper() == "LAST"
        return OrderItem(path, descending, nulls_last)

    def condition(self) -> Condition:
        first = self.unary()
        if not self.is_keyword("AND", "OR"):
            return first
        op = self.tok.upper()
        items = [first]
        while self.is_keyword("AND", "OR"):
            if self.tok.upper() != op:
                # SOQL refuses "a AND b OR c": the precedence must be spelled with parentheses.
                raise self.error()
            self.advance()
            items.append(self.unary())
        return BoolOp(cast(Literal["AND", "OR"], op), tuple(items))

    def unary(self) -> Condition:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise malformed(self.source, self.tok.pos, "conditions are nested too deeply")
        try:
            if self.is_keyword("NOT"):
                self.advance()
                return Not(self.unary())
            if self.tok.kind is Tok.LPAREN:
                self.advance()
                inner = self.condition()
                self.expect(Tok.RPAREN)
                return inner
            return self.comparison()
        finally:
            self.depth -= 1

    def comparison(self) -> Comparison:
        path = self.path()
        if self.tok.kind is Tok.OP:
            op = self.advance().text
            return Comparison(path, cast(_Op, op), (self.value(),))
        negated = False
        if self.is_keyword("NOT"):
            self.advance()
            negated = True
            if not self.is_keyword("IN"):
                raise self.error()
        if self.is_keyword("IN"):
            self.advance()
            self.expect(Tok.LPAREN)
            if self.is_keyword("SELECT"):
                sub = self.query()
                self.expect(Tok.RPAREN)
                return Comparison(path, "NOT IN" if negated else "IN", (), sub)
            values = [self.value()]
            while self.tok.kind is Tok.COMMA:
                self.advance()
                values.append(self.value())
            self.expect(Tok.RPAREN)
            return Comparison(path, "NOT IN" if negated else "IN", tuple(values))
        if self.is_keyword("LIKE"):
            self.advance()
            token = self.expect(Tok.STRING)
            return Comparison(path, "LIKE", (Value("string", token.text, token.pos),))
        raise self.error()

    def value(self) -> Value:
        token = self.advance()
        if token.kind is Tok.STRING:
            return Value("string", token.text, token.pos)
        if token.kind is Tok.NUMBER:
            number = float(token.text) if "." in token.text else int(token.text)
            return Value("number", number, token.pos)
        if token.kind is Tok.DATE:
            return Value("date", token.text, token.pos)
        if token.kind is Tok.DATETIME:
            return Value("datetime", token.text, token.pos)
        if token.kind is Tok.IDENT:
            word = token.upper()
            if word in ("TRUE", "FALSE"):
                return Value("boolean", word == "TRUE", token.pos)
            if word == "NULL":
                return Value("null", None, token.pos)
            if word in DATE_LITERALS:
                return Value("date_literal", word, token.pos)
            if word in DATE_LITERALS_N:
                self.expect(Tok.COLON)
                n_tok = self.expect(Tok.NUMBER)
                if not n_tok.text.isdigit():
                    raise self.error(n_tok)
                return Value("date_literal", word, token.pos, int(n_tok.text))
        raise self.error(token)


_Op = Literal["=", "!=", "<", "<=", ">", ">="]
