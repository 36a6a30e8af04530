"""Tokens of the filter language (an AIP-160 subset), each with its position.

>>> [(t.kind, t.text) for t in tokenize('sku = "A-1" AND -price > 5')][:4]
[('WORD', 'sku'), ('CMP', '='), ('STRING', 'A-1'), ('AND', 'AND')]
>>> [(t.kind, t.text, t.position) for t in tokenize('-price>5')]
[('MINUS', '-', 0), ('WORD', 'price', 1), ('CMP', '>', 6), ('WORD', '5', 7), ('EOF', '', 8)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from inventory_server.db.listing.errors import at, invalid

TokenKind = Literal["WORD", "STRING", "CMP", "LPAREN", "RPAREN", "AND", "OR", "NOT", "MINUS", "EOF"]

MAX_FILTER_LENGTH = 2000

# An RFC 3339 timestamp may stand unquoted; its colons are not the ':' operator.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?(?![\w.\-/])")
_WORD = re.compile(r"[^\W][\w.\-/]*")
_COMPARATORS = ("<=", ">=", "!=", "=", "<", ">", ":")
_KEYWORDS: dict[str, TokenKind] = {"AND": "AND", "OR": "OR", "NOT": "NOT"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


@dataclass(frozen=True, slots=True)
class Token:
    """One token; ``text`` is the decoded value for strings, the source text otherwise."""

    kind: TokenKind
    text: str
    position: int


def tokenize(source: str) -> list[Token]:
    """Split a filter into tokens, ending with an EOF token; bad input raises InvalidArgument."""
    if len(source) > MAX_FILTER_LENGTH:
        raise invalid("filter", f"longer than {MAX_FILTER_LENGTH} characters")
    tokens: list[Token] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char.isspace():
            index += 1
            continue
        token, index = _next_token(source, index)
        tokens.append(token)
    tokens.append(Token("EOF", "", len(source)))
    return tokens


def _next_token(source: str, index: int) -> tuple[Token, int]:
    char = source[index]
    if char == "(":
        return Token("LPAREN", char, index), index + 1
    if char == ")":
        return Token("RPAREN", char, index), index + 1
    if char in "\"'":
        return _string(source, index)
    for comparator in _COMPARATORS:
        if source.startswith(comparator, index):
            return Token("CMP", comparator, index), index + len(comparator)
    for pattern in (_TIMESTAMP, _NUMBER):
        match = pattern.match(source, index)
        if match:
            return Token("WORD", match.group(), index), match.end()
    if char == "-":
        return Token("MINUS", char, index), index + 1
    match = _WORD.match(source, index)
    if match:
        word = match.group()
        return Token(_KEYWORDS.get(word, "WORD"), word, index), match.end()
    raise invalid("filter", f"unexpected character {char!r} {at(index)}")


def _string(source: str, start: int) -> tuple[Token, int]:
    quote = source[start]
    chars: list[str] = []
    index = start + 1
    while index < len(source):
        char = source[index]
        if char == quote:
            return Token("STRING", "".join(chars), start), index + 1
        if char == "\\":
            if index + 1 >= len(source):
                break
            escaped = source[index + 1]
            if escaped not in _ESCAPES:
                raise invalid("filter", f"unknown escape '\\{escaped}' {at(index)}")
            chars.append(_ESCAPES[escaped])
            index += 2
            continue
        chars.append(char)
        index += 1
    raise invalid("filter", f"unterminated string {at(start)}")
