"""The playground's child process: run filter and transforms over sample records under hard limits.

Started by ``pipelines.playground.run`` as ``python -E -s -m pipelines.playground_child`` with an
empty environment (no database URL, no secrets) and the request as JSON on stdin. After the
engine is imported it caps its own CPU time and address space (``resource.setrlimit``), so a
hostile expression can use at most the configured CPU seconds and memory, whatever the engine's
own budgets do: the soft CPU limit raises ``OutOfTime`` between bytecodes, the hard limit one
second later kills the process even inside C code, and allocations beyond the memory cap fail
with ``MemoryError``. It answers JSON on stdout: per-record results and why it stopped, if it did.
No Django here: only the worker's pure stages.
"""

from __future__ import annotations

import json
import math
import resource
import signal
import sys
import time

MAX_OUTPUT_CHARS = 20_000
MAX_REASON_CHARS = 2_000


class OutOfTime(BaseException):
    """Raised by SIGXCPU to interrupt the running evaluation."""


_out_of_time = False


def _on_cpu_limit(signum, frame):
    global _out_of_time
    _out_of_time = True
    # The kernel repeats SIGXCPU every second past the soft limit; once is enough, the hard
    # limit kills the process if this does not stop it.
    signal.signal(signal.SIGXCPU, signal.SIG_IGN)
    raise OutOfTime


def _virtual_memory_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text) - limit} more characters)"


def _limit(cpu_seconds: float, memory_bytes: int) -> None:
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(used.ru_utime + used.ru_stime + cpu_seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
    if memory_bytes:
        cap = _virtual_memory_bytes() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def run(request: dict) -> dict:
    from pipelines.stages import ConfigError, PipelineConfig, RecordOutcome, TransformSpec, compile_pipeline

    config = PipelineConfig(project_id="playground", filter=request["filter"], transforms=tuple(
        TransformSpec(row["expression"], row["output_name"], row.get("output_type") or "string")
        for row in request["transforms"]))
    signal.signal(signal.SIGXCPU, _on_cpu_limit)
    _limit(request["cpu_seconds"], request["memory_bytes"])
    results: list[list] = []
    stopped = ""
    started = time.process_time()
    try:
        pipeline = compile_pipeline(config)
        for index, record in enumerate(request["records"], start=1):
            outcome, value = pipeline.process(record)
            if _out_of_time:
                # The engine turns any exception inside an evaluation into an expression error,
                # OutOfTime included: the flag says this record was interrupted, not evaluated.
                raise OutOfTime
            if outcome is RecordOutcome.PASSED:
                text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
                results.append([index, "passed", _cut(text, MAX_OUTPUT_CHARS), ""])
            elif outcome is RecordOutcome.FILTERED:
                results.append([index, "dropped", "", "the filter returned false"])
            elif outcome is RecordOutcome.FILTER_ERROR:
                results.append([index, "filter error", "", _cut(f"{value} (counted as no match)", MAX_REASON_CHARS)])
            else:
                results.append([index, "dead letter", "", _cut(str(value), MAX_REASON_CHARS)])
    except ConfigError as exc:
        return {"error": str(exc).split(": ", 1)[-1]}
    except OutOfTime:
        stopped = "cpu"
    except MemoryError:
        stopped = "memory"
    return {"results": results, "stopped": stopped, "cpu_seconds": time.process_time() - started}


def main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    answer = run(request)
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))


if __name__ == "__main__":
    main()
