"""Exceptions raised by the expression engine, with positions like expr-lang's own messages."""
from __future__ import annotations


class ExprError(Exception):
    """Base class of every error the engine raises on user input."""

    def __init__(self, message: str, source: str = "", offset: int | None = None) -> None:
        self.message = message
        self.source = source
        self.offset = offset
        self.line, self.column = _line_col(source, offset)
        super().__init__(message)

    def set_position(self, source: str, offset: int) -> None:
        self.source, self.offset = source, offset
        self.line, self.column = _line_col(source, offset)

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        text = f"{self.message} ({self.line}:{self.column})"
        lines = self.source.split("\n")
        if 0 < self.line <= len(lines):
            src_line = lines[self.line - 1]
            # The caret is placed by character so that non-ASCII text lines up in a terminal.
            text += f"\n | {src_line}\n | {'.' * (self.column - 1)}^"
        return text


class ExprCompileError(ExprError):
    """The source does not parse, names something unknown, or has statically wrong types."""


class ExprRuntimeError(ExprError):
    """Evaluation failed for this record (type mismatch, bad index, limit reached...)."""


def _line_col(source: str, offset: int | None) -> tuple[int, int]:
    if offset is None:
        return 0, 0
    offset = max(0, min(offset, len(source)))
    line = source.count("\n", 0, offset) + 1
    start = source.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


class Limits:
    """Bounds on the work one expression may do; exceeding any is an ExprError."""

    max_source = 16_384
    max_depth = 100
    max_range = 1_000_000
    max_repeat = 1_000_000
    max_regex = 4_096
    max_collection = 1_000_000
    max_work = 500_000
