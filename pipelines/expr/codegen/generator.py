"""Turns a checked tree into the source of one Python function and compiles it once.

User identifiers only ever become string keys of `env.get(...)`; every other name in the generated
code is one of ours (helpers, constants, `_t<n>` temporaries, `_it`/`_ix`/`_acc` predicate params).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..builtin import CHARGING
from ..builtin import PREDICATE_SHAPES as PREDICATES
from ..checking.typesys import INT, MONTH, WEEKDAY, Function
from ..errors import ExprCompileError, ExprRuntimeError, Limits
from ..runtime.regex import compile_regex, literal_alternation
from ..runtime.values import FuncValue
from ..syntax import nodes as A
from .analysis import SIZED_OPERANDS, sized_reads, surely_bool, weight
from .helpers import call_func, helper_namespace
from .loops import INLINE_PREDICATES, loop_source
from .positions import locate, place_marks

_BINARY_HELPERS = {
    "+": "_add", "-": "_sub", "*": "_mul", "/": "_div", "%": "_mod", "**": "_pow", "^": "_pow",
    "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge", "==": "_eq", "!=": "_ne", "in": "_in",
    "contains": "_contains", "startsWith": "_starts", "endsWith": "_ends", "matches": "_matches",
    "..": "_range",
}
_PY_CMP = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
# Operators whose generic helper takes the work budget (they can allocate or walk large values).
_BUDGET_HELPERS = {"+": "_addb", "in": "_inb", "..": "_rangeb", "matches": "_matchesb"}
# Up to this many operators read large operands outside loops without a charge: each costs at most
# one pass over a record value, so only expressions with many of them need the checks.
_FREE_READS = 8


class CodeGen:
    def __init__(self, source: str, functions: dict[str, Function]) -> None:
        self.source = source
        self.functions = functions
        self.consts: dict[str, Any] = {}
        self.tmp = 0
        self.lets: list[dict[str, str]] = []
        self.guards: list[list[tuple[str, str]]] = []
        self.defs: list[str] = []
        self.acc: list[bool] = [False]
        self.uses_budget = False
        self.charge_reads = False
        self.loop_depth = 0
        self.marks: list[int] = []

    def scope_params(self) -> list[str]:
        params = ["env", "_bud"]
        for scope in self.lets:
            params.extend(scope.values())
        if self.acc[-1]:
            params.append("_acc")
        return params

    def const(self, value: Any) -> str:
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def temp(self) -> str:
        self.tmp += 1
        return f"_t{self.tmp}"

    def here(self, node: A.Node) -> str:
        """A line break attributing the code after it (a slow path after a child's code) to node."""
        self.marks.append(node.pos)
        return f"\x00{len(self.marks) - 1}\x00"

    def gen(self, node: A.Node) -> str:
        code = getattr(self, "gen_" + type(node).__name__)(node)
        if isinstance(node, (A.Const, A.Nil, A.Ident, A.Pointer, A.Predicate, A.Chain)):
            return code
        # A marker that becomes a line break: each node that can fail starts its own line of the
        # generated source, so a traceback line number leads back to the node's position.
        self.marks.append(node.pos)
        return f"\x00{len(self.marks) - 1}\x00{code}"

    def gen_Nil(self, node: A.Nil) -> str:
        return "None"

    def gen_Const(self, node: A.Const) -> str:
        v = node.value
        if type(v) is float and (v != v or v in (float("inf"), float("-inf"))):
            return self.const(v)
        return repr(v)

    def gen_Ident(self, node: A.Ident) -> str:
        for scope in reversed(self.lets):
            if node.name in scope:
                return scope[node.name]
        if node.name == "$env":
            return "env"
        if node.name in self.functions:
            spec = self.functions[node.name]
            return self.const(FuncValue(node.name, spec.go_type, spec.impl))
        return f"env.get({node.name!r})"

    def gen_Pointer(self, node: A.Pointer) -> str:
        return {"": "_it", "index": "_ix", "acc": "_acc"}.get(node.name, "_it") if node.name in ("", "index", "acc") \
            else f"_fetch(_it, {node.name!r})"

    def gen_Unary(self, node: A.Unary) -> str:
        inner = self.gen(node.node)
        if node.op in ("!", "not"):
            return f"(not {inner})" if surely_bool(node.node) else f"_not({inner})"
        return f"_neg({inner})" if node.op == "-" else f"_pos({inner})"

    def truth(self, node: A.Node) -> str:
        code = self.gen(node)
        return code if surely_bool(node) else f"_truth({code})"

    def gen_Binary(self, node: A.Binary) -> str:
        op, left, right = node.op, node.left, node.right
        if op in ("and", "&&", "or", "||"):
            # A left-leaning chain `a || b || c` becomes one flat Python `or`, so long filters do
            # not hit Python's nesting limits. Every operand but the last must be a bool.
            word = "and" if op in ("and", "&&") else "or"
            operands = [right]
            while isinstance(left, A.Binary) and left.op in (("and", "&&") if word == "and" else ("or", "||")):
                operands.append(left.right)
                left = left.left
            operands.append(left)
            operands.reverse()
            parts = [self.truth(o) for o in operands[:-1]] + [self.gen(operands[-1])]
            return "(" + f" {word} ".join(parts) + ")"
        if op == "??":
            t = self.temp()
            return f"({t} if ({t} := {self.gen(left)}) is not None else {self.gen(right)})"
        lc = self.charged(left, self.gen(left)) if op in SIZED_OPERANDS else self.gen(left)
        rconst = right.value if isinstance(right, A.Const) else None
        rtype = type(rconst)
        if op in ("==", "!="):
            if left.type == INT and right.type == INT and not isinstance(right, A.Const) \
                    and not isinstance(left, A.Const):
                code = f"_eq_int({lc}, {self.gen(right)})"
                return code if op == "==" else f"(not {code})"
            literal_left = isinstance(left, (A.Const, A.Nil, A.Array, A.Map))  # `1 is None` warns
            if (rtype is bool or isinstance(right, A.Nil)) and not literal_left:
                # Only the singletons True/False/None equal these in Go's sense, so identity is exact.
                return f"({lc} is {rconst!r})" if op == "==" else f"({lc} is not {rconst!r})"
            plain = rtype is str or (rtype in (int, float) and rconst not in (0, 1) and rconst == rconst)
            if plain:
                return f"({lc} {op} {rconst!r})"
            self.uses_budget = True
            code = f"_eqb(_bud, {lc}, {self.charged(right, self.gen(right))})"
            return code if op == "==" else f"(not {code})"
        if op in _PY_CMP and rtype in (int, float) and rconst == rconst:
            t = self.temp()
            return (f"(({t} {_PY_CMP[op]} {rconst!r}) if (type({t} := {lc}) is int or type({t}) is float) "
                    f"else {self.here(node)}{_BINARY_HELPERS[op]}({t}, {rconst!r}))")
        if op in _PY_CMP and rtype is str:
            t = self.temp()
            return (f"(({t} {_PY_CMP[op]} {rconst!r}) if type({t} := {lc}) is str "
                    f"else {self.here(node)}{_BINARY_HELPERS[op]}({t}, {rconst!r}))")
        if op in ("contains", "startsWith", "endsWith") and rtype is str:
            t = self.temp()
            test = {"contains": f"{rconst!r} in {t}", "startsWith": f"{t}.startswith({rconst!r})",
                    "endsWith": f"{t}.endswith({rconst!r})"}[op]
            return f"(({test}) if type({t} := {lc}) is str else {self.here(node)}{_BINARY_HELPERS[op]}({t}, {rconst!r}))"
        if op == "matches" and rtype is str:
            try:
                compiled = compile_regex(rconst)
            except ExprRuntimeError as exc:
                raise ExprCompileError(exc.message, self.source, node.pos) from None
            fallback = f"_matchc({{t}}, {self.const(compiled)})"
            literal = literal_alternation(rconst)
            if literal is None:
                return f"_matchc({lc}, {self.const(compiled)})"
            # Literal alternations are answered with str methods, exactly as RE2 would, when the
            # text is ASCII (so case folding cannot differ); other text goes to RE2.
            t, low = self.temp(), self.temp()
            ci, alternatives = literal
            subject = f"({low} := {t}.lower())" if ci else t
            tests = []
            for i, (start, lit, end) in enumerate(alternatives):
                s = subject if i == 0 else (low if ci else t)
                if start and end:
                    tests.append(f"{s} == {lit!r}")
                elif start:
                    tests.append(f"{s}.startswith({lit!r})")
                elif end:
                    tests.append(f"{s}.endswith({lit!r})")
                else:
                    tests.append(f"{lit!r} in {s}")
            guard = f"type({t} := {lc}) is str and {t}.isascii()" if ci else f"type({t} := {lc}) is str"
            return f"(({' or '.join(tests)}) if {guard} else {self.here(node)}{fallback.format(t=t)})"
        if op == "in" and isinstance(right, A.Array) and right.items and all(
                isinstance(i, A.Const) and (type(i.value) is str or (type(i.value) in (int, float)
                                            and i.value not in (0, 1) and i.value == i.value))
                for i in right.items):
            return f"({lc} in {self.const(tuple(i.value for i in right.items))})"
        if op == "in" and isinstance(right, A.Binary) and right.op == ".." and all(
                isinstance(n, A.Const) and type(n.value) is int for n in (right.left, right.right)):
            lo, hi = right.left.value, right.right.value
            if hi - lo < 10_000_000:
                return f"_in_range({lc}, {lo}, {hi})"
        rc = self.gen(right)
        if op in SIZED_OPERANDS:
            rc = self.charged(right, rc)
        if op in _BUDGET_HELPERS:
            self.uses_budget = True
            return f"{_BUDGET_HELPERS[op]}(_bud, {lc}, {rc})"
        return f"{_BINARY_HELPERS[op]}({lc}, {rc})"

    def charged(self, node: A.Node, code: str) -> str:
        """Inside a loop, a value that is re-read on every iteration costs its size per use; so
        does every read in an expression with many large-operand operators.

        Values derived from `#` are parts of the collection being iterated, already paid for.
        """
        if not (self.loop_depth or self.charge_reads) or isinstance(node, (A.Const, A.Nil, A.Pointer)):
            return code
        self.uses_budget = True
        return f"_rd(_bud, {code})"

    def gen_Member(self, node: A.Member) -> str:
        base = self.gen(node.node)
        key = node.prop
        fetch = "_fetch"
        if node.optional:
            base = self.guard(base) if self.guards else base
            fetch = "_fetch_opt"
        if isinstance(key, A.Const) and type(key.value) is str:
            t = self.temp()
            return f"({t}.get({key.value!r}) if type({t} := {base}) is dict else {self.here(node)}{fetch}({t}, {key.value!r}))"
        return f"{fetch}({base}, {self.gen(key)})"

    def guard(self, base: str) -> str:
        t = self.temp()
        self.guards[-1].append((t, base))
        return t

    def gen_Chain(self, node: A.Chain) -> str:
        self.guards.append([])
        code = self.gen(node.node)
        guards = self.guards.pop()
        for t, base in reversed(guards):
            code = f"(None if ({t} := {base}) is None else {code})"
        return code

    def gen_Slice(self, node: A.Slice) -> str:
        start = "None" if node.start is None else self.gen(node.start)
        end = "None" if node.end is None else self.gen(node.end)
        self.uses_budget = True
        return f"_sliceb(_bud, {self.gen(node.node)}, {start}, {end})"

    def gen_Conditional(self, node: A.Conditional) -> str:
        return f"({self.gen(node.then)} if {self.truth(node.cond)} else {self.gen(node.other)})"

    def gen_Let(self, node: A.Let) -> str:
        value = self.gen(node.value)
        name = f"_l{self.tmp + 1}"
        self.tmp += 1
        self.lets.append({node.name: name})
        try:
            body = self.gen(node.body)
        finally:
            self.lets.pop()
        return f"(({name} := {value}), {body})[1]"

    def gen_Array(self, node: A.Array) -> str:
        return "[" + ", ".join(self.gen(i) for i in node.items) + "]"

    def gen_Map(self, node: A.Map) -> str:
        if all(isinstance(k, A.Const) and type(k.value) is str for k, _ in node.pairs):
            if len({k.value for k, _ in node.pairs}) < len(node.pairs):
                # Repeated keys: Go keeps the first value, a Python dict display the last.
                return "_make_map([" + ", ".join(f"({k.value!r}, {self.gen(v)})" for k, v in node.pairs) + "])"
            return "{" + ", ".join(f"{k.value!r}: {self.gen(v)}" for k, v in node.pairs) + "}"
        return "_make_map([" + ", ".join(f"({self.gen(k)}, {self.gen(v)})" for k, v in node.pairs) + "])"

    def gen_Call(self, node: A.Call) -> str:
        spec = self.functions.get(node.name)
        if spec is None:
            # Only reachable in the unchecked arguments of a method call on an unknown value.
            return f"_fail({f'unknown func {node.name}'!r})"
        args = [self.gen(arg) for arg in node.args]
        fn = self.const(call_func(spec, node.name))
        return f"{fn}({', '.join(args)})"

    def gen_MethodCall(self, node: A.MethodCall) -> str:
        base = self.gen(node.node)
        if node.optional and self.guards:
            base = self.guard(base)
        if node.node.type in (MONTH, WEEKDAY):
            # time.Month and time.Weekday are plain ints at run time; their type is static only.
            return f"{'_month_str' if node.node.type == MONTH else '_weekday_str'}({base})"
        args = ", ".join(self.gen(a) for a in node.args)
        if node.args:
            # Layouts (Format) and other string arguments are processed a character at a time.
            self.uses_budget = True
            return f"_methodb(_bud, {base}, {node.name!r}, [{args}])"
        return f"_method({base}, {node.name!r}, [{args}])"

    def gen_Builtin(self, node: A.Builtin) -> str:
        name, args = node.name, node.args
        if name == "string" and len(args) == 1 and args[0].type in (MONTH, WEEKDAY):
            # %v of a time.Month or time.Weekday is its name; at run time they are plain ints.
            return f"{'_month_str' if args[0].type == MONTH else '_weekday_str'}({self.gen(args[0])})"
        if name == "len" and len(args) == 1 and isinstance(args[0], A.Builtin) and args[0].name == "filter":
            # len(filter(a, p)) is count(a, p) without building the array, as expr's optimizer does.
            return self.inline_loop("count", args[0].args)
        if name in PREDICATES:
            self.uses_budget = True
            if name in INLINE_PREDICATES and len(args) == 2 and isinstance(args[1], A.Predicate):
                return self.inline_loop(name, args)
            # These helpers call the body through a lambda: a few more steps per element.
            body_weight = 4 + max((weight(a.node) for a in args[1:] if isinstance(a, A.Predicate)), default=0)
            parts = [f"_chargew(_bud, {self.gen(args[0])}, {body_weight})"]
            for arg in args[1:]:
                if isinstance(arg, A.Predicate):
                    is_reduce = name == "reduce"
                    self.acc.append(is_reduce or self.acc[-1])
                    self.loop_depth += 1
                    try:
                        body = self.gen(arg.node)
                    finally:
                        self.acc.pop()
                        self.loop_depth -= 1
                    params = "_it, _ix, _acc" if is_reduce else "_it, _ix"
                    parts.append(f"(lambda {params}: {body})")
                else:
                    parts.append(self.gen(arg))
            if name in ("reduce", "sortBy"):
                parts.insert(0, "_bud")
            return f"_p_{name}({', '.join(parts)})"
        code_args = [self.charged(a, self.gen(a)) for a in args]
        if name in CHARGING:
            # The builtin charges what it reads and builds to the budget itself (before allocating).
            self.uses_budget = True
            code_args.insert(0, "_bud")
        return f"_b_{name}({', '.join(code_args)})"

    def inline_loop(self, name: str, args: list[A.Node]) -> str:
        self.uses_budget = True
        arr = self.gen(args[0])
        params = self.scope_params()
        self.loop_depth += 1
        try:
            body = self.gen(args[1].node)
        finally:
            self.loop_depth -= 1
        func = f"_f{len(self.defs)}"
        self.defs.append(loop_source(name, func, params, body, surely_bool(args[1].node), weight(args[1].node)))
        return f"{func}({', '.join(params)}, {arr})"

    def gen_Predicate(self, node: A.Predicate) -> str:
        return self.gen(node.node)


_HELPERS = helper_namespace()


def generate(node: A.Node, source: str, functions: dict[str, Function]) -> tuple[str, Callable[[dict], Any]]:
    """Return the generated Python source and the compiled function of one argument (the env)."""
    gen = CodeGen(source, functions)
    gen.charge_reads = sized_reads(node) > _FREE_READS
    body = gen.gen(node)
    budget = f"    _bud = [{Limits.max_work}]\n" if gen.uses_budget else ""
    # The try/except is free in CPython 3.11 until something raises; it turns any stray Python
    # exception into an ExprRuntimeError so nothing but ExprError ever leaves run().
    marked = ("".join(d + "\n" for d in gen.defs)
              + f"def _program(env):\n    try:\n    {budget}        return ({body})\n"
              + "    except _ExprError as exc:\n        raise _locate(exc, _lines, _source)\n"
              + "    except BaseException as exc:\n"
              + "        raise _locate(_internal_error(exc), _lines, _source, exc) from None\n")
    code, lines = place_marks(marked, gen.marks)
    namespace = dict(_HELPERS)
    namespace.update(gen.consts)
    namespace.update({"_lines": lines, "_source": source, "_locate": locate})
    try:
        exec(compile(code, "<expr>", "exec"), namespace)  # noqa: S102 -- our own generated source only
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        raise ExprCompileError("expression is too complex to compile", source, 0) from None
    return code, namespace["_program"]
