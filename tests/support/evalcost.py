"""Measure what one evaluation costs: CPU seconds (time.process_time) and peak traced memory."""
from __future__ import annotations

import time
import tracemalloc
from typing import Any

from pipelines.expr import ExprError

# The goal of issue 11: any expression of <= 4 KB over any record of <= 1 MB finishes or fails
# with a budget error within 50 ms of CPU and 64 MB.
CPU_LIMIT = 0.050
MEMORY_LIMIT = 64 * 1024 * 1024


def cpu_seconds(program: Any, record: dict, repeats: int = 3) -> tuple[float, Any]:
    """The least CPU time of a few runs (the 2 shared cores add noise, never less work) and the outcome."""
    best, outcome = float("inf"), None
    for _ in range(repeats):
        started = time.process_time()
        try:
            outcome = program.run(record)
        except ExprError as exc:
            outcome = exc
        best = min(best, time.process_time() - started)
        if best < CPU_LIMIT / 2:
            break
    return best, outcome


def peak_memory(program: Any, record: dict) -> int:
    """Bytes allocated at the peak of one run, beyond what existed before it."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        try:
            result = program.run(record)
        except ExprError:
            result = None
        peak = tracemalloc.get_traced_memory()[1] - base
        del result
    finally:
        tracemalloc.stop()
    return peak
