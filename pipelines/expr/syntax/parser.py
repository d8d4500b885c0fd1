"""Recursive-descent parser producing an ast tree with expr-lang's precedence and associativity."""
from __future__ import annotations

import copy

from ..builtin import NAMES as BUILTIN_NAMES
from ..builtin import PREDICATE_SHAPES as PREDICATES
from ..errors import ExprCompileError, Limits
from ..runtime.values import go_bytes
from . import nodes as A
from .lexer import BRACKET, BYTES, EOF, IDENT, NEGATABLE, NUMBER, OPERATOR, STRING, Token, tokenize

UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
BINARY = {
    "|": 0, "or": 10, "||": 10, "and": 15, "&&": 15,
    "==": 20, "!=": 20, "<": 20, ">": 20, ">=": 20, "<=": 20,
    "in": 20, "matches": 20, "contains": 20, "startsWith": 20, "endsWith": 20,
    "..": 25, "+": 30, "-": 30, "*": 60, "/": 60, "%": 60,
    "**": 100, "^": 100, "??": 500,
}
RIGHT_ASSOC = {"**", "^"}
_ORDERING = {"<", ">", "<=", ">="}

def _is_identifier(word: str) -> bool:
    return bool(word) and all(c == "_" or c == "$" or c.isalnum() for c in word) and not word[0].isdigit()


class Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.cur: Token = self.tokens[0]
        self.predicate_depth = 0
        self.depth = 0

    def error(self, message: str, token: Token | None = None) -> ExprCompileError:
        return ExprCompileError(message, self.source, (token or self.cur).pos)

    def next(self) -> None:
        self.i += 1
        if self.i >= len(self.tokens):
            raise self.error("unexpected end of expression")
        self.cur = self.tokens[self.i]

    def expect(self, kind: str, value: str | None = None) -> None:
        if self.cur.is_(kind, value):
            self.next()
            return
        raise self.error(f"unexpected token {self.cur}")

    def parse(self) -> A.Node:
        node = self.expression(0)
        if not self.cur.is_(EOF):
            raise self.error(f"unexpected token {self.cur}")
        return node

    def expression(self, precedence: int) -> A.Node:
        self.depth += 1
        if self.depth > Limits.max_depth:
            raise self.error(f"expression is nested too deeply (more than {Limits.max_depth} levels)")
        try:
            return self._expression(precedence)
        finally:
            self.depth -= 1

    def _expression(self, precedence: int) -> A.Node:
        if precedence == 0 and self.cur.is_(OPERATOR, "let"):
            return self.let()
        left = self.primary()
        prev = ""
        op_tok = self.cur
        while op_tok.kind == OPERATOR:
            negate = op_tok.value == "not"
            not_tok = op_tok
            if negate:
                saved = self.i
                self.next()
                if self.cur.kind == OPERATOR and self.cur.value in NEGATABLE:
                    if BINARY[self.cur.value] >= precedence:
                        op_tok = self.cur
                    else:
                        self.i = saved
                        self.cur = self.tokens[saved]
                        break
                else:
                    raise self.error(f"unexpected token {self.cur}")
            prec = BINARY.get(op_tok.value)
            if prec is None or prec < precedence:
                break
            self.next()
            if op_tok.value == "|":
                ident = self.cur
                self.expect(IDENT)
                left = self.call(ident, [left])
            else:
                if prev == "??" and op_tok.value != "??":
                    raise self.error(f"Operator ({op_tok.value}) and coalesce expressions (??) cannot be mixed. "
                                     "Wrap either by parentheses.", op_tok)
                if op_tok.value in _ORDERING:
                    left = self.comparison(left, op_tok)
                else:
                    right = self.expression(prec if op_tok.value in RIGHT_ASSOC else prec + 1)
                    left = A.Binary(op_tok.value, left, right, pos=op_tok.pos)
                if negate:
                    left = A.Unary("not", left, pos=not_tok.pos)
            prev = op_tok.value
            op_tok = self.cur
        if precedence == 0:
            left = self.conditional(left)
        return left

    def comparison(self, left: A.Node, tok: Token) -> A.Node:
        """`a < b <= c` means `a < b && b <= c`, as in Go's parser (b is evaluated twice)."""
        root: A.Node | None = None
        while True:
            right = self.expression(21)
            cmp = A.Binary(tok.value, left, right, pos=tok.pos)
            root = cmp if root is None else A.Binary("&&", root, cmp, pos=tok.pos)
            tok = self.cur
            if not (tok.kind == OPERATOR and tok.value in _ORDERING):
                return root
            self.next()
            left = copy.deepcopy(right)

    def let(self) -> A.Node:
        self.expect(OPERATOR, "let")
        name = self.cur
        self.expect(IDENT)
        self.expect(OPERATOR, "=")
        value = self.expression(0)
        self.expect(OPERATOR, ";")
        body = self.expression(0)
        return A.Let(name.value, value, body, pos=name.pos)

    def conditional(self, node: A.Node) -> A.Node:
        while self.cur.is_(OPERATOR, "?"):
            self.next()
            if not self.cur.is_(OPERATOR, ":"):
                then = self.expression(0)
                self.expect(OPERATOR, ":")
                other = self.expression(0)
            else:
                self.next()
                then = node
                other = self.expression(0)
            # Go places a ternary at the token that follows it (the last character at the end),
            # which is where a non-bool condition is reported at run time.
            after = self.cur.pos if not self.cur.is_(EOF) else max(len(self.source) - 1, 0)
            node = A.Conditional(node, then, other, pos=after)
        return node

    def if_expression(self) -> A.Node:
        pos = self.cur.pos
        self.next()
        cond = self.expression(0)
        self.expect(BRACKET, "{")
        then = self.expression(0)
        self.expect(BRACKET, "}")
        self.expect(OPERATOR, "else")
        if self.cur.is_(OPERATOR, "if"):
            other = self.if_expression()
        else:
            self.expect(BRACKET, "{")
            other = self.expression(0)
            self.expect(BRACKET, "}")
        return A.Conditional(cond, then, other, pos=pos)

    def primary(self) -> A.Node:
        tok = self.cur
        if tok.kind == OPERATOR:
            if tok.value in UNARY:
                self.next()
                operand = self.expression(UNARY[tok.value])
                return self.postfix(A.Unary(tok.value, operand, pos=tok.pos))
            if tok.value == "if":
                return self.postfix(self.if_expression())
        if tok.is_(BRACKET, "("):
            self.next()
            node = self.expression(0)
            self.expect(BRACKET, ")")
            return self.postfix(node)
        if tok.kind == OPERATOR and tok.value in ("#", "."):
            if self.predicate_depth == 0:
                raise self.error("cannot use pointer accessor outside predicate")
            name = ""
            if tok.value == "#":
                self.next()
                if self.cur.kind == IDENT:
                    name = self.cur.value
                    self.next()
            return self.postfix(A.Pointer(name, pos=tok.pos))
        return self.secondary()

    def secondary(self) -> A.Node:
        tok = self.cur
        if tok.kind == IDENT:
            self.next()
            if tok.value == "true":
                return A.Const(True, pos=tok.pos)
            if tok.value == "false":
                return A.Const(False, pos=tok.pos)
            if tok.value == "nil":
                return A.Nil(pos=tok.pos)
            if self.cur.is_(BRACKET, "("):
                node = self.call(tok, [])
            else:
                node = A.Ident(tok.value, pos=tok.pos)
        elif tok.kind == NUMBER:
            self.next()
            return self.number(tok)
        elif tok.kind == STRING:
            self.next()
            node = A.Const(tok.value, pos=tok.pos)
        elif tok.kind == BYTES:
            self.next()
            node = A.Const(go_bytes(tok.value), pos=tok.pos)
        elif tok.is_(BRACKET, "["):
            node = self.array(tok)
        elif tok.is_(BRACKET, "{"):
            node = self.map(tok)
        else:
            raise self.error(f"unexpected token {tok}")
        return self.postfix(node)

    def number(self, tok: Token) -> A.Node:
        text = tok.value.replace("_", "")
        lower = text.lower()
        try:
            if lower.startswith(("0x", "0o", "0b")):
                value: int | float = int(text, 0)
            elif "." in lower or "e" in lower:
                value = float(text)
                if value == float("inf"):
                    raise self.error("float literal is too large", tok)
                return A.Const(value, pos=tok.pos)
            else:
                value = int(text, 10)
        except ValueError:
            raise self.error(f"invalid number literal: {tok.value}", tok) from None
        if value > 2**63 - 1:
            raise self.error("integer literal is too large", tok)
        return A.Const(value, pos=tok.pos)

    def call(self, tok: Token, args: list[A.Node]) -> A.Node:
        name = tok.value
        if name in PREDICATES:
            self.expect(BRACKET, "(")
            shape = PREDICATES[name][len(args):]
            for k, kind in enumerate(shape):
                if kind.isupper():
                    if self.cur.is_(BRACKET, ")"):
                        break
                elif self.cur.is_(BRACKET, ")"):
                    raise self.error(f"expected at least {len(shape)} arguments")
                if k > 0:
                    self.expect(OPERATOR, ",")
                args.append(self.predicate() if kind in "pP" else self.expression(0))
            if self.cur.is_(OPERATOR, ","):
                self.next()
            self.expect(BRACKET, ")")
            return A.Builtin(name, args, pos=tok.pos)
        args = self.arguments(args)
        if name in BUILTIN_NAMES:
            return A.Builtin(name, args, pos=tok.pos)
        return A.Call(name, args, pos=tok.pos)

    def arguments(self, args: list[A.Node]) -> list[A.Node]:
        offset = len(args)
        self.expect(BRACKET, "(")
        while not self.cur.is_(BRACKET, ")"):
            if len(args) > offset:
                self.expect(OPERATOR, ",")
            if self.cur.is_(BRACKET, ")"):
                break
            args.append(self.expression(0))
        self.expect(BRACKET, ")")
        return args

    def predicate(self) -> A.Node:
        start = self.cur
        closing = False
        if self.cur.is_(BRACKET, "{"):
            self.next()
            closing = True
        self.predicate_depth += 1
        node = self.expression(0)
        self.predicate_depth -= 1
        if closing:
            self.expect(BRACKET, "}")
        return A.Predicate(node, pos=start.pos)

    def array(self, tok: Token) -> A.Node:
        items: list[A.Node] = []
        self.expect(BRACKET, "[")
        while not self.cur.is_(BRACKET, "]"):
            if items:
                self.expect(OPERATOR, ",")
                if self.cur.is_(BRACKET, "]"):
                    break
            items.append(self.expression(0))
        self.expect(BRACKET, "]")
        return A.Array(items, pos=tok.pos)

    def map(self, tok: Token) -> A.Node:
        self.expect(BRACKET, "{")
        pairs: list[tuple[A.Node, A.Node]] = []
        while not self.cur.is_(BRACKET, "}"):
            if pairs:
                self.expect(OPERATOR, ",")
                if self.cur.is_(BRACKET, "}"):
                    break
                if self.cur.is_(OPERATOR, ","):
                    raise self.error(f"unexpected token {self.cur}")
            if self.cur.kind in (NUMBER, STRING, IDENT):
                key: A.Node = A.Const(self.cur.value, pos=tok.pos)
                self.next()
            elif self.cur.is_(BRACKET, "("):
                key = self.expression(0)
            else:
                raise self.error("a map key must be a quoted string, a number, a identifier, or an expression "
                                 f"enclosed in parentheses (unexpected token {self.cur})")
            self.expect(OPERATOR, ":")
            pairs.append((key, self.expression(0)))
        self.expect(BRACKET, "}")
        return A.Map(pairs, pos=tok.pos)

    def postfix(self, node: A.Node) -> A.Node:
        links = 0
        while self.cur.kind in (OPERATOR, BRACKET):
            tok = self.cur
            links += 1
            # Each link nests the tree one level deeper, just like a parenthesised sub-expression.
            if links + self.depth > Limits.max_depth:
                raise self.error(f"expression is nested too deeply (more than {Limits.max_depth} levels)")
            optional = tok.value == "?."
            if tok.value in (".", "?."):
                self.next()
                prop = self.cur
                if optional and prop.is_(BRACKET, "["):
                    node = self.index(node, prop, optional=True)
                    continue
                self.next()
                if prop.kind != IDENT and not (prop.kind == OPERATOR and _is_identifier(prop.value)):
                    raise self.error("expected name", prop)
                inner, was_chain = (node.node, True) if isinstance(node, A.Chain) else (node, False)
                if self.cur.is_(BRACKET, "(") and isinstance(inner, A.Ident) and inner.name == "$env":
                    # `$env.f(x)` calls the env's function f.
                    node = A.Call(prop.value, self.arguments([]), pos=prop.pos)
                elif self.cur.is_(BRACKET, "("):
                    args = self.arguments([])
                    node = A.MethodCall(inner, prop.value, args, optional=optional, pos=prop.pos)
                else:
                    node = A.Member(inner, A.Const(prop.value, pos=prop.pos), optional=optional, pos=prop.pos)
                if was_chain or optional:
                    node = A.Chain(node, pos=node.pos)
            elif tok.value == "[":
                node = self.index(node, tok, optional=False)
            else:
                break
        return node

    def index(self, node: A.Node, tok: Token, optional: bool) -> A.Node:
        self.next()
        inner, was_chain = (node.node, True) if isinstance(node, A.Chain) else (node, False)
        if self.cur.is_(OPERATOR, ":"):
            self.next()
            end = None if self.cur.is_(BRACKET, "]") else self.expression(0)
            self.expect(BRACKET, "]")
            return A.Slice(node, None, end, pos=tok.pos)
        start = self.expression(0)
        if self.cur.is_(OPERATOR, ":"):
            self.next()
            end = None if self.cur.is_(BRACKET, "]") else self.expression(0)
            self.expect(BRACKET, "]")
            return A.Slice(node, start, end, pos=tok.pos)
        self.expect(BRACKET, "]")
        out: A.Node = A.Member(inner, start, optional=optional, pos=tok.pos)
        if was_chain or optional:
            out = A.Chain(out, pos=tok.pos)
        return out


def parse(source: str) -> A.Node:
    """Parse source into a tree; raises ExprCompileError with the position of the first problem."""
    if len(source) > Limits.max_source:
        raise ExprCompileError(f"expression is too long ({len(source)} characters, limit {Limits.max_source})",
                               source, 0)
    return Parser(source).parse()
