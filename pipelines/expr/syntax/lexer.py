"""Tokenizer for expr-lang source text, following the upstream lexer's token rules."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ExprCompileError

IDENT, NUMBER, STRING, OPERATOR, BRACKET, EOF = "Identifier", "Number", "String", "Operator", "Bracket", "EOF"
BYTES = "Bytes"

WORD_OPERATORS = {"in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let", "if", "else"}
NEGATABLE = {"in", "matches", "contains", "startsWith", "endsWith"}


@dataclass(slots=True)
class Token:
    kind: str
    value: str
    pos: int

    def is_(self, kind: str, value: str | None = None) -> bool:
        return self.kind == kind and (value is None or self.value == value)

    def __str__(self) -> str:
        if self.kind == EOF:
            return "EOF"
        return f'{self.kind}("{self.value}")'


def _is_alnum(ch: str) -> bool:
    return ch == "_" or ch == "$" or ch.isalpha() or ch.isdigit()


def tokenize(source: str) -> list[Token]:
    """Split source into tokens; raises ExprCompileError on text no expr program can contain."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch in "'\"":
            value, i = _scan_string(source, i)
            tokens.append(Token(STRING, value, start))
        elif ch in "bB" and source[i + 1:i + 2] in ("'", '"') and i + 1 < n:
            # b"..." is a []byte literal: byte escapes only, \u and \U are refused as in Go.
            value, i = _scan_string(source, i + 1, as_bytes=True)
            tokens.append(Token(BYTES, value, start))
        elif ch == "`":
            end = source.find("`", i + 1)
            if end < 0:
                raise ExprCompileError("literal not terminated", source, start)
            tokens.append(Token(STRING, source[i + 1:end], start))
            i = end + 1
        elif ch.isdigit() or (ch == "." and i + 1 < n and source[i + 1].isdigit()):
            i = _scan_number(source, i)
            tokens.append(Token(NUMBER, source[start:i], start))
        elif ch == "?":
            i += 2 if source[i + 1:i + 2] in (".", "?") and i + 1 < n else 1
            tokens.append(Token(OPERATOR, source[start:i], start))
        elif ch == "/":
            if source.startswith("//", i):
                end = source.find("\n", i)
                i = n if end < 0 else end
            elif source.startswith("/*", i):
                end = source.find("*/", i + 2)
                if end < 0:
                    raise ExprCompileError("unclosed comment", source, n)
                i = end + 2
            else:
                tokens.append(Token(OPERATOR, "/", start))
                i += 1
        elif ch == "#":
            i += 2 if source.startswith("##", i) else 1
            tokens.append(Token(OPERATOR, source[start:i], start))
            j = i
            while j < n and _is_alnum(source[j]):
                j += 1
            if j > i:
                tokens.append(Token(IDENT, source[i:j], i))
                i = j
        elif ch in "|:":
            i += 2 if source[i + 1:i + 2] == ch else 1
            tokens.append(Token(OPERATOR, source[start:i], start))
        elif ch in "([{)]}":
            tokens.append(Token(BRACKET, ch, start))
            i += 1
        elif ch in ",;%+-^":
            tokens.append(Token(OPERATOR, ch, start))
            i += 1
        elif ch in "&!=*<>":
            i += 2 if source[i + 1:i + 2] in ("&", "=", "*") and i + 1 < n else 1
            tokens.append(Token(OPERATOR, source[start:i], start))
        elif ch == ".":
            i += 2 if source.startswith("..", i) else 1
            tokens.append(Token(OPERATOR, source[start:i], start))
        elif _is_alnum(ch):
            while i < n and _is_alnum(source[i]):
                i += 1
            word = source[start:i]
            if word == "not":
                tokens.append(Token(OPERATOR, "not", start))
                j = i
                while j < n and source[j].isspace():
                    j += 1
                k = j
                while k < n and _is_alnum(source[k]):
                    k += 1
                if source[j:k] in NEGATABLE:
                    tokens.append(Token(OPERATOR, source[j:k], j))
                    i = k
            elif word in WORD_OPERATORS:
                tokens.append(Token(OPERATOR, word, start))
            else:
                tokens.append(Token(IDENT, word, start))
        else:
            raise ExprCompileError(f"unrecognized character: U+{ord(ch):04X} '{ch}'", source, start)
    tokens.append(Token(EOF, "", n))
    return tokens


def _scan_number(source: str, i: int) -> int:
    n = len(source)
    digits = "0123456789_"
    start = i
    if source[i] == "0" and i + 1 < n and source[i + 1] in "xXoObB":
        kind = source[i + 1].lower()
        digits = {"x": "0123456789abcdefABCDEF_", "o": "01234567_", "b": "01_"}[kind]
        i += 2
    while i < n and source[i] in digits:
        i += 1
    if i < n and source[i] == ".":
        if i + 1 < n and source[i + 1] == ".":
            return i
        i += 1
        while i < n and source[i] in digits:
            i += 1
    if i < n and source[i] in "eE" and "x" not in source[start:i].lower():
        i += 1
        if i < n and source[i] in "+-":
            i += 1
        while i < n and source[i] in digits:
            i += 1
    if i < n and _is_alnum(source[i]):
        raise ExprCompileError(f'bad number syntax: "{source[start:i + 1]}"', source, start)
    return i


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
                   "\\": "\\", "'": "'", '"': '"'}


def _scan_string(source: str, i: int, as_bytes: bool = False) -> tuple[str, int]:
    quote = source[i]
    start = i
    i += 1
    out: list[str] = []
    n = len(source)
    bad_escape = False
    while True:
        if i >= n or source[i] == "\n":
            raise ExprCompileError("literal not terminated", source, start)
        ch = source[i]
        if ch == quote:
            if bad_escape:
                # Go unescapes a byte string once it is complete and reports its end.
                raise ExprCompileError("unable to unescape string", source, i)
            return "".join(out), i + 1
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        esc = source[i + 1:i + 2]
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
            i += 2
        elif esc in ("u", "U") and as_bytes:
            bad_escape = True
            i += 2
        elif esc in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[esc]
            hex_digits = source[i + 2:i + 2 + width]
            if len(hex_digits) != width or any(c not in "0123456789abcdefABCDEF" for c in hex_digits):
                raise ExprCompileError("invalid char escape", source, i)
            code = int(hex_digits, 16)
            if esc == "x":
                # \xHH is a raw byte in Go; bytes >= 0x80 become an invalid-UTF-8 marker.
                out.append(chr(code) if code < 0x80 else chr(0xDC00 + code))
            else:
                if code > 0x10FFFF or 0xD800 <= code < 0xE000:
                    raise ExprCompileError("invalid char escape", source, i)
                out.append(chr(code))
            i += 2 + width
        elif esc and esc in "01234567":
            octal = source[i + 1:i + 4]
            if len(octal) != 3 or any(c not in "01234567" for c in octal) or int(octal, 8) > 255:
                raise ExprCompileError("invalid char escape", source, i)
            code = int(octal, 8)
            out.append(chr(code) if code < 0x80 else chr(0xDC00 + code))
            i += 4
        else:
            raise ExprCompileError("invalid char escape", source, i)
