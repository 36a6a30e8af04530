"""Parse a filter (an AIP-160 subset) into a builder condition over a resource's allow-list.

Grammar, with AIP-160's precedence (OR binds tighter than AND)::

    filter      := [expression] EOF
    expression  := sequence {"AND" sequence}
    sequence    := factor {factor}            (juxtaposition means AND)
    factor      := term {"OR" term}
    term        := ["NOT" | "-"] simple
    simple      := "(" expression ")" | restriction
    restriction := field comparator value     (comparator: = != < <= > >= :)

>>> fields = ResourceFields("things", (FieldSpec("name", "name", "text"), FieldSpec("qty", "qty", "int")))
>>> parse_filter('name:"bolt" qty >= 2 OR NOT qty = 0', fields).as_string()
'"name" ILIKE %s AND ("qty" >= %s OR NOT ("qty" = %s))'
"""

from __future__ import annotations

from inventory_server.db.listing.errors import at, invalid
from inventory_server.db.listing.fields import FieldSpec, ResourceFields
from inventory_server.db.listing.lexer import Token, tokenize
from inventory_server.db.listing.restrictions import restriction
from inventory_server.db.query import Condition, and_, not_, or_

MAX_DEPTH = 32
_TERM_STARTS = ("WORD", "LPAREN", "NOT", "MINUS")


def parse_filter(source: str, fields: ResourceFields) -> Condition | None:
    """The condition ``source`` stands for, or None for an empty filter.

    Raises InvalidArgument (field "filter") naming the offending token and its position.
    """
    tokens = tokenize(source)
    if tokens[0].kind == "EOF":
        return None
    return _Parser(tokens, fields).parse()


class _Parser:
    def __init__(self, tokens: list[Token], fields: ResourceFields) -> None:
        self.tokens = tokens
        self.fields = fields
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def at_kind(self, kind: str) -> bool:
        return self.tokens[self.index].kind == kind

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "EOF":
            self.index += 1
        return token

    def parse(self) -> Condition:
        condition = self.expression()
        if self.current.kind != "EOF":
            raise self.unexpected("AND, OR or the end of the filter")
        return condition

    def expression(self) -> Condition:
        items = [self.sequence()]
        while self.current.kind == "AND":
            self.advance()
            items.append(self.sequence())
        return and_(*items)

    def sequence(self) -> Condition:
        items = [self.factor()]
        while self.current.kind in _TERM_STARTS:
            items.append(self.factor())
        return and_(*items)

    def factor(self) -> Condition:
        items = [self.term()]
        while self.current.kind == "OR":
            self.advance()
            items.append(self.term())
        return or_(*items)

    def term(self) -> Condition:
        if self.current.kind in ("NOT", "MINUS"):
            self.advance()
            return not_(self.simple())
        return self.simple()

    def simple(self) -> Condition:
        if self.current.kind != "LPAREN":
            return self.restriction()
        opening = self.advance()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise invalid("filter", f"nested more than {MAX_DEPTH} levels deep {at(opening.position)}")
        inner = self.expression()
        self.depth -= 1
        if not self.at_kind("RPAREN"):
            raise self.unexpected(f"')' to close the '(' {at(opening.position)}")
        self.advance()
        return inner

    def restriction(self) -> Condition:
        field_token = self.current
        if field_token.kind != "WORD":
            raise self.unexpected("a field name or '('")
        self.advance()
        spec, key = self.lookup(field_token)
        op = self.current
        if op.kind != "CMP":
            raise self.unexpected(f"a comparison operator after {field_token.text!r}")
        self.advance()
        value = self.current
        if value.kind not in ("WORD", "STRING"):
            raise self.unexpected(f"a value after {op.text!r}")
        self.advance()
        return restriction(spec, key, op, value)

    def lookup(self, token: Token) -> tuple[FieldSpec, str | None]:
        name, key = token.text, None
        spec = self.fields.find(name)
        if spec is None and "." in name:
            base, key = name.split(".", 1)
            spec = self.fields.find(base)
        if spec is None or not spec.filterable:
            known = ", ".join(self.fields.filterable_names())
            shown = name if len(name) <= 40 else name[:37] + "..."
            raise invalid(
                "filter", f"unknown field {shown!r} {at(token.position)}; filter on one of: {known}"
            )
        return spec, key

    def unexpected(self, expected: str) -> Exception:
        token = self.current
        if token.kind == "EOF":
            return invalid("filter", f"expected {expected} {at(token.position)}, found the end of the filter")
        shown = token.text if len(token.text) <= 40 else token.text[:37] + "..."
        return invalid("filter", f"expected {expected} {at(token.position)}, found {shown!r}")
