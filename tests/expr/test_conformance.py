"""The Go conformance corpus must keep passing at least at the floors recorded in the repo."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipelines.expr.conformance import run_directory
from tests.support.ci import skip_outside_ci

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("EXPR_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance" / "expr"))
FLOORS = json.loads((REPO / "pipelines" / "expr" / "conformance_floor.json").read_text())


@pytest.fixture(scope="module")
def results():
    if not CORPUS.is_dir():
        skip_outside_ci(f"conformance corpus not found at {CORPUS} (set EXPR_CONFORMANCE_DIR)")
    return {r.name: r for r in run_directory(CORPUS)}


def test_every_corpus_file_has_a_recorded_floor(results):
    assert sorted(results) == sorted(k for k in FLOORS if k.endswith(".jsonl"))


@pytest.mark.parametrize("name", sorted(k for k in FLOORS if k.endswith(".jsonl")))
def test_pass_rate_does_not_drop_below_the_floor(results, name):
    result = results[name]
    worst = sorted(result.categories.items(), key=lambda kv: -len(kv[1]))[:5]
    summary = "; ".join(f"{len(v)}x {k}" for k, v in worst)
    assert result.rate >= FLOORS[name], f"{name}: {result.passed}/{result.total} ({result.rate:.2f}%) -- {summary}"
