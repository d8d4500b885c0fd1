"""Static checks: resolves names, infers types where they are known and rejects what Go's checker rejects."""
from __future__ import annotations

from ..builtin import NAMES as BUILTIN_NAMES
from ..builtin import ArgumentError, check_builtin
from ..errors import ExprCompileError
from ..runtime.regex import compile_regex
from ..runtime.timemethods import SIGNATURES, TOO_MANY_RESULTS
from ..syntax import nodes as A
from .typesys import (
    ANY,
    ARRAY,
    BOOL,
    BYTES,
    DURATION,
    FLOAT,
    GROUPS,
    INT,
    LOCATION,
    MAP,
    MONTH,
    NIL,
    NUMERIC,
    STRING,
    TIME,
    WEEKDAY,
    Function,
    go_name,
)

_ORDERED = (NUMERIC | {STRING, TIME, DURATION})
_ARRAYS = {ARRAY, BYTES}


def _mismatch(op: str, lt: str, rt: str) -> str:
    def name(t: str) -> str:
        return "unknown" if t == NIL else go_name(t)
    return f"invalid operation: {op} (mismatched types {name(lt)} and {name(rt)})"


def comparable(lt: str, rt: str) -> bool:
    """Go's Nature.ComparableTo: what `==` accepts at compile time."""
    return (lt in (ANY, NIL) or rt in (ANY, NIL) or (lt in NUMERIC and rt in NUMERIC)
            or (lt in _ARRAYS and rt in _ARRAYS) or lt == rt)


def maybe(lt: str, rt: str, kinds: set[str] | frozenset[str]) -> bool:
    """Go's MaybeCompatible: an unknown operand may turn out to be of one of `kinds` at run time."""
    return (lt == ANY and rt == ANY) or (lt == ANY and rt in kinds) or (rt == ANY and lt in kinds)


# Types whose Go kind is an integer or float (what kind-based builtin validators accept).
NUMBER_KINDS = NUMERIC | {DURATION, MONTH, WEEKDAY}


def _promote_literals(node: A.Node) -> None:
    """An int argument to a float64 parameter: Go rewrites its integer literals (also inside unary
    and + - * operations) to floats; any other int value still fails when the function is called."""
    if isinstance(node, A.Const) and type(node.value) is int:
        node.value = float(node.value)
    elif isinstance(node, A.Unary):
        _promote_literals(node.node)
    elif isinstance(node, A.Binary) and node.op in ("+", "-", "*"):
        _promote_literals(node.left)
        _promote_literals(node.right)
    else:
        return
    node.type = FLOAT


_POINTERS = {"map": frozenset({"index"}), "reduce": frozenset({"index", "acc"})}


class Checker:
    def __init__(self, source: str, env_types: dict[str, str] | None, functions: dict[str, Function]) -> None:
        self.source = source
        self.env_types = env_types
        self.functions = functions
        self.scopes: list[dict[str, str]] = []
        self.pointers: list[frozenset[str]] = []

    def error(self, node: A.Node, message: str) -> ExprCompileError:
        return ExprCompileError(message, self.source, node.pos)

    def check(self, node: A.Node) -> str:
        method = getattr(self, "visit_" + type(node).__name__)
        t = method(node)
        node.type = t
        return t

    def visit_Nil(self, node: A.Nil) -> str:
        return NIL

    def visit_Const(self, node: A.Const) -> str:
        return {bool: BOOL, int: INT, float: FLOAT, str: STRING, bytes: BYTES}[type(node.value)]

    def visit_Ident(self, node: A.Ident) -> str:
        for scope in reversed(self.scopes):
            if node.name in scope:
                return scope[node.name]
        if node.name == "$env":
            return MAP
        if self.env_types is not None and node.name in self.env_types:
            return self.env_types[node.name]
        if node.name in self.functions:
            return "func " + self.functions[node.name].go_type
        if self.env_types is not None:
            raise self.error(node, f"unknown name {node.name}")
        return ANY

    def visit_Pointer(self, node: A.Pointer) -> str:
        if not node.name:
            return ANY
        # Only map and reduce name their loop variables (#index; reduce also #acc), and only the
        # innermost predicate's names are visible, as in Go's checker.
        if not self.pointers or node.name not in self.pointers[-1]:
            raise self.error(node, f"unknown pointer #{node.name}")
        return INT if node.name == "index" else ANY

    def visit_Unary(self, node: A.Unary) -> str:
        t = self.check(node.node)
        if node.op in ("!", "not"):
            if t in (BOOL, ANY):
                return BOOL
            raise self.error(node, f"invalid operation: {node.op} (mismatched type {go_name(t)})")
        if t in NUMERIC or t == ANY:
            return t
        raise self.error(node, f"invalid operation: {node.op} (mismatched type {go_name(t)})")

    def visit_Binary(self, node: A.Binary) -> str:
        op = node.op
        lt = self.check(node.left)
        rt = self.check(node.right)
        result = self._binary(node, op, lt, rt)
        if result is None:
            raise self.error(node, _mismatch(op, lt, rt))
        return result

    def _binary(self, node: A.Binary, op: str, lt: str, rt: str) -> str | None:  # noqa: C901 -- Go's table
        """Result type of `lt op rt` following Go's checker, or None for a mismatch."""
        num = lt in NUMERIC and rt in NUMERIC
        if op in ("==", "!="):
            return BOOL if comparable(lt, rt) else None
        if op in ("and", "&&", "or", "||"):
            return BOOL if (lt == BOOL and rt == BOOL) or maybe(lt, rt, {BOOL}) else None
        if op in ("<", ">", "<=", ">="):
            ok = num or (lt == rt and lt in (STRING, TIME, DURATION)) or maybe(lt, rt, _ORDERED)
            return BOOL if ok else None
        if op in ("+", "-", "*"):
            if num:
                return INT if lt == INT and rt == INT else FLOAT
            pair = (lt, rt)
            if op == "+" and pair == (STRING, STRING):
                return STRING
            if (op == "+" and pair in ((TIME, DURATION), (DURATION, TIME))) or (op == "-" and pair == (TIME, DURATION)):
                return TIME
            if op == "-" and pair == (TIME, TIME):
                return DURATION
            if pair == (DURATION, DURATION) or (op == "*" and DURATION in pair and (lt in NUMERIC or rt in NUMERIC)):
                return DURATION
            kinds = {"+": NUMERIC | {STRING, TIME, DURATION}, "-": NUMERIC | {TIME, DURATION},
                     "*": NUMERIC | {DURATION}}[op]
            return ANY if maybe(lt, rt, kinds) else None
        if op in ("/", "**", "^"):
            return FLOAT if num or maybe(lt, rt, NUMERIC) else None
        if op == "%":
            return INT if (lt == INT and rt == INT) or maybe(lt, rt, {INT}) else None
        if op == "in":
            return self._in(node, lt, rt)
        if op == "matches":
            if isinstance(node.right, A.Const) and type(node.right.value) is str:
                try:
                    compile_regex(node.right.value)
                except Exception as exc:  # re2 raises its own error type
                    raise self.error(node, str(exc)) from None
            ok = (lt in (STRING, BYTES) and rt == STRING) or maybe(lt, rt, {STRING})
            return BOOL if ok else None
        if op in ("contains", "startsWith", "endsWith"):
            return BOOL if (lt == STRING and rt == STRING) or maybe(lt, rt, {STRING}) else None
        if op == "..":
            return ARRAY if (lt == INT and rt == INT) or maybe(lt, rt, {INT}) else None
        if op == "??":
            if lt == NIL:
                return rt
            if rt == NIL:
                return lt
            return lt if lt == rt else ANY
        raise self.error(node, f"unknown operator ({op})")

    def _in(self, node: A.Binary, lt: str, rt: str) -> str | None:
        if rt == MAP:
            if lt != ANY and lt != STRING:
                raise self.error(node, f"cannot use {go_name(lt) if lt != NIL else 'unknown'} as type string in map key")
            return BOOL
        if rt in _ARRAYS or rt == GROUPS:
            return BOOL
        if (lt == ANY and rt in (STRING, ARRAY, MAP, GROUPS)) or rt == ANY:
            return BOOL
        return None

    def visit_Member(self, node: A.Member) -> str:
        prop = node.prop
        if isinstance(node.node, A.Ident) and node.node.name == "$env" and not self._shadowed("$env"):
            node.node.type = MAP
            self.check(prop)
            if isinstance(prop, A.Const) and type(prop.value) is str:
                # `$env.name` is the variable itself; with a typed env an unknown one is an error
                # unless asked for with `?.` (Go's strict mode).
                if self.env_types is not None and prop.value in self.env_types:
                    return self.env_types[prop.value]
                if self.env_types is not None and not node.optional and prop.value not in self.functions:
                    raise self.error(node, f"unknown name {prop.value}")
            return ANY
        base = self.check(node.node)
        key = self.check(prop)
        if base == ANY:
            return ANY
        named = isinstance(prop, A.Const) and type(prop.value) is str
        if base == NIL and named:
            raise self.error(node, f"type nil has no field {prop.value}")
        if base == MAP:
            if key not in (STRING, ANY):
                raise self.error(prop, f"cannot use {self._name(key)} to get an element from {go_name(MAP)}")
            return ANY
        if base == GROUPS:
            return ARRAY
        if base in _ARRAYS:
            if key not in (INT, ANY):
                raise self.error(prop, f"array elements can only be selected using an integer (got {self._name(key)})")
            return INT if base == BYTES else ANY
        if named:
            raise self.error(node, f"type {go_name(base)} has no field {prop.value}")
        raise self.error(node, f"type {self._name(base)}[{self._name(key)}] is undefined")

    @staticmethod
    def _name(t: str) -> str:
        return "unknown" if t == NIL else go_name(t)

    def _shadowed(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def visit_Chain(self, node: A.Chain) -> str:
        return self.check(node.node)

    def visit_Slice(self, node: A.Slice) -> str:
        base = self.check(node.node)
        if base == ANY:
            # Like Go, the bounds of a slice of an unknown value are not checked.
            for part in (node.start, node.end):
                if part is not None:
                    self.check(part)
            return ANY
        if base not in (STRING, ARRAY, BYTES):
            raise self.error(node, f"cannot slice {self._name(base)}")
        for part in (node.start, node.end):
            if part is not None:
                t = self.check(part)
                if t not in (INT, ANY):
                    raise self.error(part, f"non-integer slice index {self._name(t)}")
        return base

    def visit_Conditional(self, node: A.Conditional) -> str:
        c = self.check(node.cond)
        if c not in (BOOL, ANY):
            raise self.error(node.cond, f"non-bool expression (type {go_name(c)}) used as condition")
        a, b = self.check(node.then), self.check(node.other)
        if a == NIL:
            return b
        if b == NIL:
            return a
        return a if a == b else ANY

    def visit_Let(self, node: A.Let) -> str:
        name = node.name
        # Go refuses to shadow anything: env variables, functions, builtins and outer lets.
        if self.env_types is not None and name in self.env_types:
            raise self.error(node, f"cannot redeclare {name}")
        if name in self.functions:
            raise self.error(node, f"cannot redeclare function {name}")
        if name in BUILTIN_NAMES:
            raise self.error(node, f"cannot redeclare builtin {name}")
        if self._shadowed(name):
            raise self.error(node, f"cannot redeclare variable {name}")
        value = self.check(node.value)
        self.scopes.append({name: value})
        try:
            return self.check(node.body)
        finally:
            self.scopes.pop()

    def visit_Array(self, node: A.Array) -> str:
        for item in node.items:
            self.check(item)
        return ARRAY

    def visit_Map(self, node: A.Map) -> str:
        for k, v in node.pairs:
            self.check(k)
            self.check(v)
        return MAP

    def visit_Predicate(self, node: A.Predicate) -> str:
        return self.check(node.node)

    def visit_MethodCall(self, node: A.MethodCall) -> str:
        base = self.check(node.node)
        if base == ANY:
            # Like expr, arguments of a method call on an unknown value are not checked.
            return ANY
        table = SIGNATURES.get(base, {})
        if node.name not in table:
            if node.name in TOO_MANY_RESULTS.get(base, ()):
                raise self.error(node, f"func {node.name} returns more then two values")
            raise self.error(node, f"type {self._name(base)} has no method {node.name}")
        params, result = table[node.name]
        arg_types = [self.check(a) for a in node.args]
        if len(arg_types) != len(params):
            word = "not enough" if len(arg_types) < len(params) else "too many"
            raise self.error(node, f"{word} arguments to call {node.name}")
        for arg, t, want in zip(node.args, arg_types, params, strict=True):
            if t != want and t != ANY and not (t == NIL and want == LOCATION):
                raise self.error(arg, f"cannot use {self._name(t)} as argument (type {go_name(want)}) "
                                      f"to call {node.name}")
        return result

    def visit_Call(self, node: A.Call) -> str:
        arg_types = [self.check(a) for a in node.args]
        spec = self.functions.get(node.name)
        if spec is None:
            # Only registered functions can be called; a record value never becomes callable.
            if self.env_types is not None and node.name in self.env_types:
                raise self.error(node, f"{node.name} is not callable")
            raise self.error(node, f"unknown func {node.name}")
        if spec.params is None:
            return ANY
        params = spec.param_types
        fixed = len(params) - 1 if spec.variadic else len(params)
        if len(arg_types) < fixed:
            raise self.error(node, f"not enough arguments to call {node.name}")
        if len(arg_types) > len(params) and not spec.variadic:
            raise self.error(node, f"too many arguments to call {node.name}")
        for i, (arg, t) in enumerate(zip(node.args, arg_types, strict=True)):
            want = params[min(i, len(params) - 1)]
            if want == ANY or t == ANY or t == want:
                continue
            if want == FLOAT and t == INT:
                _promote_literals(arg)
                continue
            raise self.error(arg, f"cannot use {go_name(t)} as argument (type {go_name(want)}) to call {node.name}")
        return spec.return_type

    def visit_Builtin(self, node: A.Builtin) -> str:
        arg_types = []
        for arg in node.args:
            if isinstance(arg, A.Predicate):
                self.pointers.append(_POINTERS.get(node.name, frozenset()))
                try:
                    arg_types.append(self.check(arg))
                finally:
                    self.pointers.pop()
            else:
                arg_types.append(self.check(arg))
        try:
            return check_builtin(node.name, arg_types)
        except ArgumentError as exc:
            where = node.args[exc.index] if exc.index is not None and exc.index < len(node.args) else node
            raise self.error(where, exc.message) from None


def check(node: A.Node, source: str, env_types: dict[str, str] | None, functions: dict[str, Function]) -> str:
    """Annotate node types in place and return the root type; raises ExprCompileError."""
    return Checker(source, env_types, functions).check(node)
