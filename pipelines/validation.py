"""Validation of pipeline settings shared by the API serializer and the browser forms.

Every function returns the cleaned value or raises ``ValueError`` with a message a user
can act on; callers attach it to the field it belongs to and report all errors at once.
"""

from __future__ import annotations

import re
from typing import Any

from pipelines.stages.config import DEFAULT_OUTPUT_TYPE, OUTPUT_TYPES, SIGNALS

HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")
RESERVED_HEADERS = {"content-type", "content-length", "host", "x-project-id", "x-request-id",
                    "transfer-encoding", "connection"}
OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")
MAX_TRANSFORMS = 50
MAX_EXPRESSION_LENGTH = 4096


def check_expression(source: str, *, expect_bool: bool) -> None:
    """Compile an expression; raise ValueError with the position of the first error."""
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ValueError(f"expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    from pipelines import expr  # imported late: the engine is a separate, pure package

    try:
        expr.validate(source, expect=bool if expect_bool else Any)
    except expr.ExprError as exc:
        raise ValueError(str(exc)) from None


def clean_filter(source: str) -> str:
    source = (source or "").strip()
    if source:
        check_expression(source, expect_bool=True)
    return source


def clean_transforms(value: Any) -> list[dict]:
    """Validate the ordered list of transforms; errors name the row (1-based) and the key."""
    if not isinstance(value, list):
        raise ValueError("transforms must be a list of {expression, output_name, output_type} objects")
    if len(value) > MAX_TRANSFORMS:
        raise ValueError(f"at most {MAX_TRANSFORMS} transforms are allowed")
    cleaned: list[dict] = []
    seen: set[str] = set()
    problems: list[str] = []
    for index, row in enumerate(value, start=1):
        if not isinstance(row, dict):
            problems.append(f"transform {index}: must be an object")
            continue
        unknown = set(row) - {"expression", "output_name", "output_type"}
        if unknown:
            problems.append(f"transform {index}: unknown keys {', '.join(sorted(unknown))}")
        expression = row.get("expression")
        name = row.get("output_name")
        output_type = row.get("output_type", DEFAULT_OUTPUT_TYPE)
        if not isinstance(expression, str) or not expression.strip():
            problems.append(f"transform {index}: expression is required")
        else:
            try:
                check_expression(expression, expect_bool=False)
            except ValueError as exc:
                problems.append(f"transform {index}: {exc}")
        if not isinstance(name, str) or not OUTPUT_NAME.match(name):
            problems.append(f"transform {index}: output_name must start with a letter or _ and contain only "
                            "letters, digits, _ . - (at most 128 characters)")
        elif name in seen:
            problems.append(f"transform {index}: output_name {name!r} is used twice")
        else:
            seen.add(name)
        if output_type not in OUTPUT_TYPES:
            problems.append(f"transform {index}: unknown output_type {output_type!r}; use one of "
                            f"{', '.join(OUTPUT_TYPES)}")
        cleaned.append({"expression": (expression or "").strip() if isinstance(expression, str) else expression,
                        "output_name": name, "output_type": output_type})
    if problems:
        raise ValueError("; ".join(problems))
    return cleaned


def clean_signals(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"signals must be a non-empty list drawn from {', '.join(SIGNALS)}")
    unknown = [item for item in value if item not in SIGNALS]
    if unknown:
        raise ValueError(f"unknown signal {unknown[0]!r}; use {', '.join(SIGNALS)}")
    return [signal for signal in SIGNALS if signal in value]


def clean_headers(value: Any) -> dict[str, str]:
    """HTTP headers the user adds to outbound requests (names validated, values single-line)."""
    if not isinstance(value, dict):
        raise ValueError("headers must be an object of header name to value")
    if len(value) > 50:
        raise ValueError("at most 50 headers are allowed")
    cleaned: dict[str, str] = {}
    for name, header_value in value.items():
        if not isinstance(name, str) or not HEADER_NAME.match(name):
            raise ValueError(f"{name!r} is not a valid HTTP header name")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"header {name} is set by GlassFlow and cannot be configured")
        if not isinstance(header_value, str) or "\r" in header_value or "\n" in header_value:
            raise ValueError(f"the value of header {name} must be a single-line string")
        if any(char < " " and char != "\t" or char == "\x7f" for char in header_value):
            # The outbound client refuses them too (outbound.http1): caught here, not at every delivery.
            raise ValueError(f"the value of header {name} contains a control character")
        if not header_value.isascii():
            raise ValueError(f"the value of header {name} contains non-ASCII characters, which HTTP headers "
                             "cannot carry; encode them (for example as base64 or percent-encoding)")
        if len(header_value) > 8192:
            raise ValueError(f"the value of header {name} is longer than 8192 characters")
        cleaned[name] = header_value
    return cleaned
