"""Maps failures inside generated code back to positions in the expression source.

Code generation emits a marker before each node that can fail; markers become line breaks, and
the line of the deepest generated-code frame in a traceback identifies the node.
"""
from __future__ import annotations

from ..errors import ExprError


def place_marks(marked: str, marks: list[int]) -> tuple[str, dict[int, int]]:
    """Turn markers into line breaks; return the code and {line number: source offset}."""
    parts = marked.split("\x00")
    out = [parts[0]]
    line = parts[0].count("\n") + 1
    lines: dict[int, int] = {}
    for k in range(1, len(parts), 2):
        line += 1
        lines[line] = marks[int(parts[k])]
        out.append("\n")
        out.append(parts[k + 1])
        line += parts[k + 1].count("\n")
    return "".join(out), lines


def locate(exc: ExprError, lines: dict[int, int], source: str, cause: BaseException | None = None) -> ExprError:
    """Attach the position of the node that failed, found from the deepest generated-code frame."""
    if exc.offset is not None:
        return exc
    tb = (cause or exc).__traceback__
    frames: list[tuple[int, int]] = []  # (failing line, first line of its function), outermost first
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == "<expr>":
            frames.append((tb.tb_lineno, code.co_firstlineno))
        tb = tb.tb_next
    # The deepest frame with a marked line at or above the failure, within its own function: a
    # failure in a loop function's set-up (before its body) belongs to the call site.
    for lineno, first in reversed(frames):
        for candidate in range(lineno, first - 1, -1):
            if candidate in lines:
                exc.set_position(source, lines[candidate])
                return exc
    return exc
