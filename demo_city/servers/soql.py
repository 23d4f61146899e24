"""The small, safe subset of SoQL the procurement portal understands, compiled to parameterised SQLite.

Clauses (each parsed by the same Lark grammar, so there is one definition of the language):

- ``$where``: comparisons ``= != <> < <= > >=``, ``AND`` / ``OR`` / ``NOT``, parentheses,
  ``IS NULL`` / ``IS NOT NULL``; operands are column names (``vendor_id``, system fields ``:id``,
  ``:updated_at``, or back-quoted), single-quoted strings (``''`` escapes a quote) and numbers.
- ``$select``: a comma list of columns, ``*`` (all data columns) and ``:*`` (all system fields).
- ``$order``: a comma list of ``column [ASC|DESC]``.

Safety: the grammar admits nothing else (no functions, no ``;``, no sub-queries); literal values
become ``?`` parameters, never SQL text; every column name is checked against the table's real
columns and emitted double-quoted. Anything else raises ``SoqlError`` with a message for the
client (the portal turns it into HTTP 400 ``query.compiler.malformed``).
"""
from __future__ import annotations

from dataclasses import dataclass

from lark import Lark, Token, Transformer_NonRecursive
from lark.exceptions import UnexpectedInput, VisitError

SQLITE_INT_MAX = 2**63 - 1  # larger integers cannot be bound as SQLite parameters
MAX_CLAUSE_CHARS = 4000  # a generous bound; keeps parse trees (and SQLite's expression depth) small

_GRAMMAR = r"""
?where: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr                  -> negation
         | predicate
?predicate: "(" or_expr ")"
          | operand COMPARATOR operand    -> comparison
          | operand _IS _NOT _NULL        -> is_not_null
          | operand _IS _NULL             -> is_null
?operand: column
        | STRING                          -> string
        | NUMBER                          -> number

select: select_item ("," select_item)*
?select_item: column
            | STAR                        -> all_columns
            | SYSTEM_STAR                 -> all_system_fields

order: order_item ("," order_item)*
order_item: column [DIRECTION]

column: NAME | QUOTED_NAME

COMPARATOR: "=" | "!=" | "<>" | "<=" | ">=" | "<" | ">"
DIRECTION: "asc"i | "desc"i
_AND: "and"i
_OR: "or"i
_NOT: "not"i
_IS: "is"i
_NULL: "null"i
STAR: "*"
SYSTEM_STAR: ":*"
NAME: /:?[A-Za-z_][A-Za-z0-9_]*/
QUOTED_NAME: /`[^`]+`/
STRING: /'(?:[^']|'')*'/
NUMBER: /-?[0-9]+(\.[0-9]+)?/
%ignore /\s+/
"""

_PARSER = Lark(_GRAMMAR, start=["where", "select", "order"], parser="lalr")


class SoqlError(ValueError):
    """A SoQL clause the portal cannot compile; the message is meant for the API client."""


@dataclass(frozen=True)
class Table:
    """What the compiler needs to know about a resource's table: its columns, in table order."""

    name: str
    columns: tuple[str, ...]

    @property
    def data_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if not c.startswith(":"))

    @property
    def system_fields(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c.startswith(":"))

    def checked(self, name: str) -> str:
        """The column name, double-quoted for SQL, or SoqlError if the table has no such column."""
        if name not in self.columns:
            raise SoqlError(f"no such column: {name}")
        return quote_identifier(name)


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_name(token: Token) -> str:
    return token[1:-1] if token.type == "QUOTED_NAME" else str(token)


class _WhereCompiler(Transformer_NonRecursive):
    """Turns a ``$where`` parse tree into (sql, params); each node yields such a pair."""

    def __init__(self, table: Table):
        super().__init__()
        self.table = table

    def column(self, children):
        return self.table.checked(_column_name(children[0])), []

    def string(self, children):
        return "?", [children[0][1:-1].replace("''", "'")]

    def number(self, children):
        text = str(children[0])
        value = float(text) if "." in text else int(text)
        if isinstance(value, int) and not -SQLITE_INT_MAX - 1 <= value <= SQLITE_INT_MAX:
            raise SoqlError(f"number {text[:30]}{'...' if len(text) > 30 else ''} is out of range (a 64-bit integer at most)")
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            raise SoqlError(f"number {text[:30]}... is out of range")
        return "?", [value]

    def comparison(self, children):
        (left_sql, left_params), op, (right_sql, right_params) = children
        op = "!=" if op == "<>" else str(op)
        return f"({left_sql} {op} {right_sql})", left_params + right_params

    def is_null(self, children):
        sql, params = children[0]
        return f"({sql} IS NULL)", params

    def is_not_null(self, children):
        sql, params = children[0]
        return f"({sql} IS NOT NULL)", params

    def negation(self, children):
        sql, params = children[0]
        return f"(NOT {sql})", params

    def _join(self, keyword, children):
        params = [p for _, ps in children for p in ps]
        return "(" + f" {keyword} ".join(sql for sql, _ in children) + ")", params

    def and_expr(self, children):
        return self._join("AND", children)

    def or_expr(self, children):
        return self._join("OR", children)


def _parse(clause: str, text: str, start: str):
    if len(text) > MAX_CLAUSE_CHARS:
        raise SoqlError(f"{clause} is longer than {MAX_CLAUSE_CHARS} characters")
    try:
        return _PARSER.parse(text, start=start)
    except UnexpectedInput as e:
        found = getattr(e, "token", None) or getattr(e, "char", None) or "end of input"
        if getattr(found, "type", None) == "$END":
            found = "end of input"
        raise SoqlError(f"{clause}: could not parse at column {e.column}: unexpected {found!s}") from None


def compile_where(text: str, table: Table) -> tuple[str, list]:
    """``$where`` → an SQL boolean expression with ``?`` placeholders, and its parameters."""
    tree = _parse("$where", text, "where")
    try:
        sql, params = _WhereCompiler(table).transform(tree)
    except VisitError as e:  # the transformer wraps our SoqlError (unknown column)
        if isinstance(e.orig_exc, SoqlError):
            raise SoqlError(f"$where: {e.orig_exc}") from None
        raise
    return sql, params


def compile_select(text: str, table: Table) -> list[str]:
    """``$select`` → the output column names, in the order asked for (duplicates dropped)."""
    names: list[str] = []
    for item in _parse("$select", text, "select").children:
        if item.data == "all_columns":
            names.extend(table.data_columns)
        elif item.data == "all_system_fields":
            names.extend(table.system_fields)
        else:
            name = _column_name(item.children[0])
            if name not in table.columns:
                raise SoqlError(f"$select: no such column: {name}")
            names.append(name)
    return list(dict.fromkeys(names))


def compile_order(text: str, table: Table) -> list[tuple[str, str]]:
    """``$order`` → [(column name, 'ASC'|'DESC')]."""
    terms = []
    for item in _parse("$order", text, "order").children:
        column, direction = item.children
        name = _column_name(column.children[0])
        if name not in table.columns:
            raise SoqlError(f"$order: no such column: {name}")
        terms.append((name, (direction or "ASC").upper()))
    return terms
