"""Static types known to the checker and the function signatures of builtins and registered functions."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..runtime.gotime import GoDuration, GoTime
from ..runtime.values import AnyKeyMap, FuncValue
from ..runtime.zones import GoLocation

ANY, NIL, BOOL, INT, FLOAT, STRING = "any", "nil", "bool", "int", "float", "string"
ARRAY, MAP, TIME, DURATION, FUNC = "array", "map", "time", "duration", "func"
# Named Go types with methods of their own: time.Month and time.Weekday are ints at run time
# but, as in Go, neither numbers nor comparable with int; byte strings b"..." are []uint8.
MONTH, WEEKDAY, LOCATION, BYTES = "month", "weekday", "location", "bytes"
GROUPS = "groups"  # groupBy's map[interface {}][]interface {}: any key type
NUMERIC = {INT, FLOAT}

GO_NAMES = {ANY: "interface {}", NIL: "nil", BOOL: "bool", INT: "int", FLOAT: "float64", STRING: "string",
            ARRAY: "[]interface {}", MAP: "map[string]interface {}", TIME: "time.Time",
            DURATION: "time.Duration", FUNC: "func", MONTH: "time.Month", WEEKDAY: "time.Weekday",
            LOCATION: "*time.Location", BYTES: "[]uint8",
            GROUPS: "map[interface {}][]interface {}"}


def go_name(t: str) -> str:
    return GO_NAMES.get(t, "func" if t.startswith("func ") else t)


def type_of_value(v: Any) -> str:
    """The static type expr.Env gives a variable from the value it holds at compile time.

    A variable holding nil has the nil type, as in Go (`x + 1` is then a compile error)."""
    t = type(v)
    if v is None:
        return NIL
    if t is FuncValue:
        return "func " + v.go_type  # each Go func type is its own type
    return {bool: BOOL, int: INT, float: FLOAT, str: STRING, list: ARRAY, dict: MAP, AnyKeyMap: GROUPS,
            GoTime: TIME, GoDuration: DURATION, FuncValue: FUNC, bytes: BYTES, GoLocation: LOCATION}.get(t, ANY)


_GO_PARAM = {"int": INT, "float64": FLOAT, "string": STRING, "bool": BOOL, "any": ANY,
             "interface {}": ANY, "[]interface {}": ARRAY, "map[string]interface {}": MAP}


@dataclass
class Function:
    """A function callable from expressions.

    `params` are Go type names ("int", "float64", "string", "bool", "any"); the last may start with
    "..." for a variadic tail. Without params the function accepts any arguments, like
    expr.Function without type hints.
    """

    impl: Callable[..., Any]
    params: list[str] | None = None
    returns: str = "any"
    go_type: str = ""
    param_types: list[str] = field(init=False, default_factory=list)
    variadic: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        if self.params is not None:
            self.variadic = bool(self.params) and self.params[-1].startswith("...")
            self.param_types = [_GO_PARAM.get(p.removeprefix("..."), ANY) for p in self.params]
            if not self.go_type:
                self.go_type = f"func({', '.join(self.params)}) {self.returns}"
        elif not self.go_type:
            self.go_type = "func(...interface {}) (interface {}, error)"

    @property
    def return_type(self) -> str:
        return _GO_PARAM.get(self.returns, ANY)
