"""The builtin table is the single source: parser names, checker, folder and runtime all come from it."""
from __future__ import annotations

import pytest

from pipelines.expr import ExprCompileError, compile
from pipelines.expr.builtin import BUILTINS, CHARGING, NAMES, PREDICATE_SHAPES, PURE, SIZED
from pipelines.expr.codegen.helpers import helper_namespace
from pipelines.expr.syntax import nodes as A
from pipelines.expr.syntax.parser import parse


@pytest.mark.parametrize("name", sorted(NAMES))
def test_every_table_entry_parses_as_a_builtin_and_is_reachable_at_run_time(name):
    args = "[1], # > 0" if name in PREDICATE_SHAPES else "1"
    tree = parse(f"{name}({args})")
    assert isinstance(tree, A.Builtin) and tree.name == name
    entry = BUILTINS[name]
    namespace = helper_namespace()
    if entry.predicate:
        assert entry.impl is None or namespace[f"_p_{name}"] is entry.impl
    elif name in CHARGING:
        # Wrapped so that it charges the evaluation's work budget (runtime/charged.py).
        assert callable(namespace[f"_b_{name}"]) and namespace[f"_b_{name}"] is not entry.impl
    else:
        assert namespace[f"_b_{name}"] is entry.impl


def test_pure_builtins_are_folded_to_constants_and_others_are_not():
    assert "upper" in PURE and "now" not in PURE
    assert "_b_upper" not in compile('upper("abc") == "ABC"').python_source
    assert "_b_now" in compile("now()").python_source


def test_checker_uses_the_table_validators():
    with pytest.raises(ExprCompileError, match="not enough arguments to call repeat"):
        compile('repeat("a")')
    with pytest.raises(ExprCompileError, match="builtin filter takes only array"):
        compile('filter("abc", # > 1)')
    with pytest.raises(ExprCompileError, match="invalid argument for max"):
        compile('max("a")')


def test_sized_results_are_charged_inside_and_outside_loops():
    assert "split" in SIZED and "split" in CHARGING
    assert "_b_split(_bud, " in compile('map([1], split("a,b", ","))').python_source
    assert "_b_split(_bud, " in compile('split(s, ",")').python_source
