"""Run history written for tests the way the pipeline worker and the receiver write it."""

from __future__ import annotations

from types import SimpleNamespace

import orjson

from projects.streams import raw_subject
from runs.recorder import RunHistory, record_output


def record_runs(js, project_id, runs: list[tuple[str, list[dict], list[int], str | None, object]]) -> None:
    """Write runs the way the pipeline worker does: (request id, records, statuses, outcome, output)."""
    async def write(jetstream):
        history = RunHistory(jetstream._nc)
        for request_id, records, statuses, outcome, _output in runs:
            msgs = [SimpleNamespace(subject=raw_subject(project_id, "logs")) for _ in records]
            run = history.begin(str(project_id), request_id, msgs, records, orjson.dumps(records))
            for status in statuses:
                run.attempt(status, "" if status == 200 else f"{status} failed", 0.012)
            if outcome:
                run.outcome(outcome)
        await history.close()
        for request_id, _, _, _, output in runs:
            if output is not None:
                await record_output(jetstream._nc, project_id, request_id, "2026-01-15T10:30:02Z", output)
        await jetstream._nc.flush()

    js.run(write)
