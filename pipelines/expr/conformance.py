"""Conformance runner: `python -m pipelines.expr.conformance DIR` compares us with Go's recorded outcomes.

DIR holds `envs.json` and `*.jsonl` case files (layout described in the corpus README). Prints
`file: passed/total (pct%)` per file, then the mismatch categories with counts and one example.
"""
from __future__ import annotations

import json
import math
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import ExprCompileError, ExprRuntimeError, Function, compile
from .runtime.gofmt import format_value
from .runtime.gotime import GoDuration, GoTime
from .runtime.values import AnyKeyMap, FuncValue, go_bytes, wrap_int


def _div(a: int, b: int) -> int:
    if b == 0:
        raise ExprRuntimeError("runtime error: integer divide by zero")
    q = abs(a) // abs(b)
    return wrap_int(q if (a >= 0) == (b >= 0) else -q)


# Implementations of the functions the corpus envs declare (see envs.json "semantics").
KNOWN_FUNCTIONS = {
    "add": lambda a, b: wrap_int(a + b),
    "div": _div,
    "half": lambda a: a / 2,
    "score": lambda a, *xs: wrap_int(a + sum(xs)),
    "greet": lambda name: "Hello, " + name,
    "fn": lambda *params: "fn(" + format_value(list(params)) + ")",
}


def _go_params(spec: dict) -> list[str] | None:
    params = spec.get("params")
    if params is None:
        return None
    return [p.split(" ", 1)[1] for p in params]


def load_envs(directory: Path) -> dict[str, tuple[dict, dict[str, Function]]]:
    data = json.loads((directory / "envs.json").read_text())
    global_funcs = data.get("global_functions", {})
    envs: dict[str, tuple[dict, dict[str, Function]]] = {}
    for name, env in data.get("envs", {}).items():
        functions: dict[str, Function] = {}
        for fname in global_funcs:
            if fname in KNOWN_FUNCTIONS:
                functions[fname] = Function(KNOWN_FUNCTIONS[fname])
        for fname, spec in env.get("functions", {}).items():
            if fname in KNOWN_FUNCTIONS:
                go_type = spec.get("go_type", "")
                returns = go_type.rsplit(") ", 1)[-1] if ") " in go_type else "any"
                functions[fname] = Function(KNOWN_FUNCTIONS[fname], params=_go_params(spec), returns=returns,
                                            go_type=go_type)
        variables = dict(env.get("vars", {}))
        # In Go these funcs are entries of the env map itself (so `$env` lists them), while the
        # global `fn` is registered with expr.Function and is not; model both.
        for fname in env.get("functions", {}):
            if fname in functions:
                variables[fname] = FuncValue(fname, functions[fname].go_type, functions[fname].impl)
        envs[name] = (variables, functions)
    return envs


def encode(value: Any) -> Any:
    """Our value in the corpus's typed-value encoding."""
    t = type(value)
    if value is None:
        return {"nil": None}
    if t is bool:
        return {"bool": value}
    if t is int:
        return {"int": value}
    if t is float:
        if value != value:
            return {"float": "NaN"}
        if math.isinf(value):
            return {"float": "+Inf" if value > 0 else "-Inf"}
        return {"float": value}
    if t is str:
        if any("\udc80" <= ch <= "\udcff" for ch in value):
            return {"str_invalid_utf8_hex": go_bytes(value).hex()}
        return {"str": value}
    if t is list:
        return {"array": [encode(v) for v in value]}
    if t is dict or t is AnyKeyMap:
        if all(type(k) is str for k in value):
            return {"map": {k: encode(v) for k, v in sorted(value.items())}}
        entries = [[encode(k), encode(v)] for k, v in value.items()]
        entries.sort(key=lambda e: json.dumps(e[0], sort_keys=True))
        return {"map_entries": entries}
    if t is bytes:
        return {"bytes_hex": value.hex()}
    if t is GoDuration:
        return {"duration_ns": value.ns}
    if t is GoTime:
        return {"time": value.rfc3339nano()}
    if t is FuncValue:
        return {"func": value.go_type}
    return {"other": repr(value)}


def _canon(v: Any, unordered: bool = False) -> str:
    if unordered and isinstance(v, dict) and "array" in v:
        return json.dumps(sorted(json.dumps(x, sort_keys=True) for x in v["array"]))
    if isinstance(v, dict) and "map_entries" in v:
        v = {"map_entries": sorted(v["map_entries"], key=lambda e: json.dumps(e, sort_keys=True))}
    return json.dumps(v, sort_keys=True)


@dataclass
class FileResult:
    name: str
    total: int = 0
    passed: int = 0
    categories: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))

    @property
    def rate(self) -> float:
        return 100.0 * self.passed / self.total if self.total else 100.0


def _norm(message: str) -> str:
    message = re.sub(r"\s*\(\d+:\d+\)$", "", message.split("\n")[0])
    message = re.sub(r'"[^"]*"|`[^`]*`', "S", message)
    return re.sub(r"-?\d+(\.\d+)?", "N", message)[:80]


def run_case(case: dict, envs: dict) -> tuple[bool, str, Any]:
    """Return (matched, category, what we produced)."""
    variables, functions = envs[case["env"]]
    try:
        program = compile(case["expr"], functions=functions, env=variables)
        got: Any = ("ok", encode(program.run(variables)))
    except ExprCompileError as exc:
        got = ("compile", exc.message)
    except ExprRuntimeError as exc:
        got = ("runtime", exc.message)
    except Exception as exc:  # noqa: BLE001 -- a crash is a mismatch category of its own
        got = ("crash", f"{type(exc).__name__}: {exc}")
    if case["ok"]:
        if got[0] == "ok":
            unordered = bool(case.get("nondeterministic"))
            if _canon(got[1], unordered) == _canon(case["result"], unordered):
                return True, "", got
            return False, f"value differs (result type {next(iter(case['result']))})", got
        return False, f"expected ok, got {got[0]}: {_norm(got[1])}", got
    if got[0] == case["error"]:
        return True, "", got
    detail = _norm(got[1]) if got[0] != "ok" else json.dumps(got[1])[:60]
    return False, f"expected {case['error']} ({_norm(case['message'])}), got {got[0]}: {detail}", got


def run_directory(directory: Path) -> list[FileResult]:
    envs = load_envs(directory)
    results = []
    for path in sorted(directory.glob("*.jsonl")):
        result = FileResult(path.name)
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            case = json.loads(line)
            result.total += 1
            ok, category, got = run_case(case, envs)
            if ok:
                result.passed += 1
            else:
                result.categories[category].append({"case": case, "got": got})
        results.append(result)
    return results


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m pipelines.expr.conformance DIR", file=sys.stderr)
        return 2
    results = run_directory(Path(argv[0]))
    for r in results:
        print(f"{r.name}: {r.passed}/{r.total} ({r.rate:.2f}%)")
    for r in results:
        if not r.categories:
            continue
        print(f"\n{r.name} mismatches by category:")
        for category, items in sorted(r.categories.items(), key=lambda kv: -len(kv[1])):
            ex = items[0]
            expected = ex["case"].get("result") if ex["case"]["ok"] else ex["case"].get("message")
            print(f"  {len(items):5d}  {category}")
            print(f"         e.g. {ex['case']['id']}: {ex['case']['expr']!r}")
            print(f"              expected {json.dumps(expected)[:150]}  got {json.dumps(ex['got'][1], default=str)[:150]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
