"""RE2 regular expressions (Go's regexp dialect) with a bounded cache and size limit."""
from __future__ import annotations

from typing import Any

import re2

from ..errors import ExprRuntimeError, Limits
from .values import go_bytes, interface_conversion

_CACHE: dict[str, Any] = {}
_CACHE_LIMIT = 512
_OPTIONS = re2.Options()
_OPTIONS.max_mem = 8 << 20
_OPTIONS.log_errors = False

# RE2 (C++) and Go's regexp share a grammar but word their errors differently.
_GO_MESSAGES = {"missing ]": "missing closing ]", "missing )": "missing closing )",
                "unexpected )": "unexpected )", "no argument for repetition operator":
                "missing argument to repetition operator", "bad repetition operator":
                "invalid nested repetition operator", "trailing \\": "trailing backslash at end of expression"}


class RegexError(ExprRuntimeError):
    pass


_REPEAT = re2.compile(rb"\{[0-9]+(?:,([0-9]*))?\}")


def regex_units(pattern: str) -> int:
    """What compiling a pattern costs in work units: ~10 a character, and RE2 expands counted
    repetitions (`x{1,1000}` is a thousand copies of x), ~300 per repetition."""
    data = pattern.encode("utf-8", "surrogateescape")
    repeats = 0
    for m in _REPEAT.finditer(data):
        bounds = m.group(0)[1:-1].split(b",")
        repeats += int(bounds[1] or bounds[0]) if len(bounds) > 1 else int(bounds[0])
    return len(data) * 10 + repeats * 300


def compile_regex(pattern: str) -> Any:
    compiled = _CACHE.get(pattern)
    if compiled is not None:
        return compiled
    if len(pattern) > Limits.max_regex:
        raise RegexError(f"error parsing regexp: pattern too long ({len(pattern)} characters, "
                         f"limit {Limits.max_regex})")
    if regex_units(pattern) > Limits.max_work:
        # Compiling would take seconds (a compile-time stall of whoever saves or runs it).
        raise RegexError("error parsing regexp: pattern too complex (its counted repetitions expand "
                         "beyond the expression work budget)")
    try:
        compiled = re2.compile(go_bytes(pattern), _OPTIONS)
    except Exception as exc:  # noqa: BLE001 -- the binding raises its own error type
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        reason, _, arg = str(detail).partition(": ")
        reason = _GO_MESSAGES.get(reason, reason)
        raise RegexError(f"error parsing regexp: {reason}: `{arg or pattern}`") from None
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[pattern] = compiled
    return compiled


def matches(text: Any, pattern: Any) -> bool:
    if text is None:
        return False
    if type(text) is not str:
        raise interface_conversion(text, "string")
    if type(pattern) is not str:
        raise interface_conversion(pattern, "string")
    return compile_regex(pattern).search(go_bytes(text)) is not None


def matches_compiled(text: Any, compiled: Any) -> bool:
    if text is None:
        return False
    if type(text) is not str:
        raise interface_conversion(text, "string")
    return compiled.search(text.encode("utf-8", "surrogateescape")) is not None


_LITERAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-:/,=@'\"!<>;~%&#")


def literal_alternation(pattern: str) -> tuple[bool, list[tuple[bool, str, bool]]] | None:
    """(case_insensitive, [(anchored_start, literal, anchored_end)]) when pattern is just that."""
    ci = pattern.startswith("(?i)")
    body = pattern[4:] if ci else pattern
    alternatives = []
    for alt in body.split("|"):
        start = alt.startswith("^")
        end = alt.endswith("$") and len(alt) > int(start)
        lit = alt[int(start):len(alt) - int(end)]
        if not lit or any(c not in _LITERAL_CHARS for c in lit):
            return None
        alternatives.append((start, lit.lower() if ci else lit, end))
    return ci, alternatives
