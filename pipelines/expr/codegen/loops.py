"""Source templates for predicate builtins compiled to real Python loops.

A predicate call becomes a module-level function of the generated program, so its body runs
inline in a `for` loop instead of through a lambda call per element. Free names of the body
(env, the work budget, `let` locals, an outer `#acc`) are passed in as parameters.
"""
from __future__ import annotations

# Each element costs the weight of the body (its node count): a long body over a long array is
# charged for all the steps it will take, before it starts.
_PROLOGUE = """    _items = _arr if type(_arr) is list else _iter_items(_arr)
    _bud[0] -= len(_items){times}
    if _bud[0] < 0:
        _charge(_bud, _items)
"""

# {body} is the predicate expression; _r holds its value.
_LOOPS = {
    "all": ("", "if _r is False:\n            return False\n        if _r is not True:\n            _not_bool(_r)",
            "True"),
    "any": ("", "if _r is True:\n            return True\n        if _r is not False:\n            _not_bool(_r)",
            "False"),
    "none": ("", "if _r is True:\n            return False\n        if _r is not False:\n            _not_bool(_r)",
             "True"),
    "one": ("_n = 0\n", "if _r is True:\n            _n += 1\n        elif _r is not False:\n            _not_bool(_r)",
            "_n == 1"),
    "count": ("_n = 0\n", "if _r is True:\n            _n += 1\n        elif _r is not False:\n            _not_bool(_r)",
              "_n"),
    "filter": ("_out = []\n", "if _r is True:\n            _out.append(_it)\n        elif _r is not False:\n"
               "            _not_bool(_r)", "_out"),
    "map": ("_out = []\n", "_out.append(_r)", "_out"),
    "find": ("", "if _r is True:\n            return _it\n        if _r is not False:\n            _not_bool(_r)",
             "None"),
    "findIndex": ("", "if _r is True:\n            return _ix\n        if _r is not False:\n            _not_bool(_r)",
                  "None"),
    "sum": ("_n = 0\n", "if type(_r) is int or type(_r) is float:\n            _n = _add(_n, _r)\n"
            "        else:\n            _not_number(_n, _r)", "_n"),
}
# When the body always yields a real bool, the bool check per element can go.
_BOOL_STEPS = {
    "all": "if not _r:\n            return False", "any": "if _r:\n            return True",
    "none": "if _r:\n            return False", "one": "if _r:\n            _n += 1",
    "count": "if _r:\n            _n += 1", "filter": "if _r:\n            _out.append(_it)",
    "find": "if _r:\n            return _it", "findIndex": "if _r:\n            return _ix",
}
_REVERSED = {"findLast": "find", "findLastIndex": "findIndex"}

INLINE_PREDICATES = frozenset(_LOOPS) | frozenset(_REVERSED)


def loop_source(name: str, func: str, params: list[str], body: str, surely_bool: bool, body_weight: int = 1) -> str:
    """Source of `def func(params..., _arr)` implementing predicate builtin `name` with `body`."""
    init, step, result = _LOOPS[_REVERSED.get(name, name)]
    if surely_bool and name in _BOOL_STEPS:
        step = _BOOL_STEPS[name]
    if name in _REVERSED:
        header = "    for _ix in range(len(_items) - 1, -1, -1):\n        _it = _items[_ix]\n"
    elif "_ix" in body or name == "findIndex":
        header = "    for _ix, _it in enumerate(_items):\n"
    else:
        header = "    for _it in _items:\n"
    prologue = _PROLOGUE.format(times=f" * {body_weight}" if body_weight > 1 else "")
    return (f"def {func}({', '.join(params + ['_arr'])}):\n{prologue}"
            + (f"    {init}" if init else "")
            + header
            + f"        _r = ({body})\n"
            + f"        {step}\n"
            + f"    return {result}\n")
