"""Conversion of a transform's result to its declared ``output_type``.

Rules follow what a Go implementation of the same setting would accept (strconv-style
parsing, int64 range), so that a pipeline behaves the same on either runtime:

- ``string``: strings unchanged, bool as ``true``/``false``, numbers in Go's ``%v``
  form (``3``, ``2.5``, ``1e+21``), lists and objects as compact JSON.
- ``int`` / ``int64``: integers, floats truncated toward zero when finite, strings
  holding a base-10 integer; the result must fit in a signed 64-bit integer.
- ``float64``: numbers and numeric strings; NaN and infinities are refused (JSON
  cannot carry them).
- ``bool``: booleans, the strings strconv.ParseBool accepts, integers (non-zero is true).

``nil`` converts to nothing: the user is told to supply a default with ``??``.
"""

from __future__ import annotations

import json
import math
from typing import Any

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
TRUE_STRINGS = {"1", "t", "T", "TRUE", "true", "True"}
FALSE_STRINGS = {"0", "f", "F", "FALSE", "false", "False"}


class ConversionError(ValueError):
    """The value cannot become the declared type; the message says why in plain words."""


def _describe(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _go_float(value: float) -> str:
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
        return _go_float(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ConversionError(f"{_describe(value)} is a bool, not a number")
    if isinstance(value, int):
        result = value
    elif isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ConversionError(f"{_describe(value)} is not a finite number")
        result = int(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            result = int(text, 10)
        except ValueError:
            raise ConversionError(f"{_describe(value)} is not a base-10 integer") from None
    else:
        raise ConversionError(f"{_describe(value)} is not a number")
    if not INT64_MIN <= result <= INT64_MAX:
        raise ConversionError(f"{result} does not fit in a 64-bit integer")
    return result


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ConversionError(f"{_describe(value)} is a bool, not a number")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            raise ConversionError(f"{_describe(value)} is not a number") from None
    else:
        raise ConversionError(f"{_describe(value)} is not a number")
    if math.isnan(result) or math.isinf(result):
        raise ConversionError(f"{_describe(value)} is not a finite number")
    return result


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        if value in TRUE_STRINGS:
            return True
        if value in FALSE_STRINGS:
            return False
        raise ConversionError(f"{_describe(value)} is not true or false")
    raise ConversionError(f"{_describe(value)} is not a bool")


CONVERTERS = {"string": _to_string, "int": _to_int, "int64": _to_int, "float64": _to_float, "bool": _to_bool}


def convert(value: Any, output_type: str) -> Any:
    """Return ``value`` as ``output_type`` or raise ConversionError."""
    if value is None:
        raise ConversionError(f"the expression returned nil, which cannot be converted to {output_type}; "
                              "add a default with ??")
    try:
        converter = CONVERTERS[output_type]
    except KeyError:
        raise ConversionError(f"unknown output_type {output_type!r}") from None
    return converter(value)
