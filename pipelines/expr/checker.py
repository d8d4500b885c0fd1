"""Static checks: resolves names, infers types where they are known and rejects what Go's checker rejects."""
from __future__ import annotations

from . import nodes as A
from .errors import ExprCompileError
from .regex import compile_regex
from .signatures import check_builtin
from .typesys import (
    ANY,
    ARRAY,
    BOOL,
    DURATION,
    FLOAT,
    INT,
    MAP,
    NIL,
    NUMERIC,
    STRING,
    TIME,
    Function,
    go_name,
)

_ARITH = {"+", "-", "*", "/", "%", "**", "^"}
_TIME_METHODS = {"Year": INT, "Month": INT, "Day": INT, "Hour": INT, "Minute": INT, "Second": INT,
                 "Nanosecond": INT, "YearDay": INT, "Weekday": INT, "Unix": INT, "UnixMilli": INT,
                 "UnixMicro": INT, "UnixNano": INT, "Format": STRING, "String": STRING, "UTC": TIME,
                 "Before": BOOL, "After": BOOL, "Equal": BOOL, "Add": TIME, "Sub": DURATION, "IsZero": BOOL}
_DURATION_METHODS = {"Hours": FLOAT, "Minutes": FLOAT, "Seconds": FLOAT, "Milliseconds": INT,
                     "Microseconds": INT, "Nanoseconds": INT, "String": STRING, "Abs": DURATION}


def _mismatch(op: str, lt: str, rt: str) -> str:
    def name(t: str) -> str:
        return "unknown" if t == NIL else go_name(t)
    return f"invalid operation: {op} (mismatched types {name(lt)} and {name(rt)})"


class Checker:
    def __init__(self, source: str, env_types: dict[str, str] | None, functions: dict[str, Function]) -> None:
        self.source = source
        self.env_types = env_types
        self.functions = functions
        self.scopes: list[dict[str, str]] = []

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
        return {bool: BOOL, int: INT, float: FLOAT, str: STRING}[type(node.value)]

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
        return INT if node.name == "index" else ANY

    def visit_Unary(self, node: A.Unary) -> str:
        t = self.check(node.node)
        if node.op in ("!", "not"):
            if t in (BOOL, ANY):
                return BOOL
            raise self.error(node, f"invalid operation: {node.op} (mismatched type {go_name(t)})")
        if t in NUMERIC or t == ANY:
            return t
        if t == DURATION and node.op == "-":
            return t
        raise self.error(node, f"invalid operation: {node.op} (mismatched type {go_name(t)})")

    def visit_Binary(self, node: A.Binary) -> str:
        op = node.op
        lt = self.check(node.left)
        rt = self.check(node.right)
        any_side = lt == ANY or rt == ANY
        if op in ("==", "!="):
            return BOOL
        if op in ("and", "&&", "or", "||"):
            if lt in (BOOL, ANY) and rt in (BOOL, ANY):
                return BOOL
            raise self.error(node, _mismatch(op, lt, rt))
        if op in ("<", ">", "<=", ">="):
            if any_side or (lt in NUMERIC and rt in NUMERIC) or (lt == rt and lt in (STRING, TIME, DURATION)):
                return BOOL
            raise self.error(node, _mismatch(op, lt, rt))
        if op in _ARITH:
            return self._arith(node, op, lt, rt)
        if op == "in":
            if rt in (ARRAY, MAP, ANY) or (lt == ANY and rt != NIL):
                return BOOL
            raise self.error(node, _mismatch(op, lt, rt))
        if op in ("contains", "startsWith", "endsWith", "matches"):
            if lt in (STRING, ANY) and rt in (STRING, ANY):
                if op == "matches" and isinstance(node.right, A.Const):
                    try:
                        compile_regex(node.right.value)
                    except Exception as exc:  # re2 raises its own error type
                        raise self.error(node, str(exc)) from None
                return BOOL
            raise self.error(node, _mismatch(op, lt, rt))
        if op == "..":
            if lt in (INT, ANY) and rt in (INT, ANY):
                return ARRAY
            raise self.error(node, _mismatch(op, lt, rt))
        if op == "??":
            if lt == NIL:
                return rt
            return lt if lt == rt else ANY
        raise self.error(node, f"unknown operator {op}")

    def _arith(self, node: A.Binary, op: str, lt: str, rt: str) -> str:
        if lt == ANY or rt == ANY:
            # An unknown operand is checked at run time, like an interface{} value in expr.
            if op in ("/", "**", "^"):
                return FLOAT
            if op == "%":
                return INT
            known = rt if lt == ANY else lt
            return ANY if known != FLOAT or op == "+" else FLOAT
        if lt in NUMERIC and rt in NUMERIC:
            if op in ("/", "**", "^"):
                return FLOAT
            if op == "%":
                if lt == INT and rt == INT:
                    return INT
                raise self.error(node, _mismatch(op, lt, rt))
            return INT if lt == INT and rt == INT else FLOAT
        if op == "+" and lt == STRING and rt == STRING:
            return STRING
        if op == "+" and {lt, rt} == {TIME, DURATION}:
            return TIME
        if op in ("+", "-") and lt == rt == DURATION:
            return DURATION
        if op == "-" and lt == TIME and rt == TIME:
            return DURATION
        if op == "-" and lt == TIME and rt == DURATION:
            return TIME
        if op == "*" and {lt, rt} == {INT, DURATION}:
            return DURATION
        raise self.error(node, _mismatch(op, lt, rt))

    def visit_Member(self, node: A.Member) -> str:
        base = self.check(node.node)
        key = self.check(node.prop)
        if base in (ANY, MAP) or (base == NIL and node.optional):
            return ANY
        if base == ARRAY:
            if key in (INT, ANY, FLOAT):
                return ANY
            raise self.error(node.prop, f"array elements can only be selected using an integer (got {go_name(key)})")
        if isinstance(node.prop, A.Const) and isinstance(node.prop.value, str) and base not in (STRING,):
            raise self.error(node, f"type {go_name(base)} has no field {node.prop.value}")
        raise self.error(node, f"type {go_name(base)}[{go_name(key)}] is undefined")

    def visit_Chain(self, node: A.Chain) -> str:
        return self.check(node.node)

    def visit_Slice(self, node: A.Slice) -> str:
        base = self.check(node.node)
        for part in (node.start, node.end):
            if part is not None:
                t = self.check(part)
                if t not in (INT, ANY, FLOAT):
                    raise self.error(part, f"non-integer slice index {go_name(t)}")
        if base in (STRING, ARRAY, ANY):
            return base
        raise self.error(node, f"cannot slice {go_name(base)}")

    def visit_Conditional(self, node: A.Conditional) -> str:
        c = self.check(node.cond)
        if c not in (BOOL, ANY):
            raise self.error(node.cond, f"non-bool expression (type {go_name(c)}) used as condition")
        a, b = self.check(node.then), self.check(node.other)
        return a if a == b else ANY

    def visit_Let(self, node: A.Let) -> str:
        value = self.check(node.value)
        self.scopes.append({node.name: value})
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
        for arg in node.args:
            self.check(arg)
        table = _TIME_METHODS if base == TIME else _DURATION_METHODS if base == DURATION else {}
        if node.name in table:
            return table[node.name]
        raise self.error(node, f"type {go_name(base)} has no method {node.name}")

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
                continue
            raise self.error(arg, f"cannot use {go_name(t)} as argument (type {go_name(want)}) to call {node.name}")
        return spec.return_type

    def visit_Builtin(self, node: A.Builtin) -> str:
        arg_types = []
        for arg in node.args:
            if isinstance(arg, A.Predicate):
                arg_types.append(self.check(arg))
            else:
                arg_types.append(self.check(arg))
        message, arg_index, result = check_builtin(node.name, arg_types, node.args)
        if message:
            where = node.args[arg_index] if arg_index is not None else node
            raise self.error(where, message)
        return result


def check(node: A.Node, source: str, env_types: dict[str, str] | None, functions: dict[str, Function]) -> str:
    """Annotate node types in place and return the root type; raises ExprCompileError."""
    return Checker(source, env_types, functions).check(node)
