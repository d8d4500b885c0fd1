"""The pipeline editor's playground: run unsaved filter and transforms over sample records.

It reuses the worker's pure stages (``pipelines.stages``), so what the playground shows
is what the pipeline worker would do, and reads a project's most recent raw records
from its JetStream stream for "load recent records".

Expressions are validated exactly as on save (``pipelines.validation``: length, syntax, types),
then run in a child process (``pipelines.playground_child``) with hard CPU, memory and wall-clock
limits and no secrets in its environment, at most ``PLAYGROUND_CONCURRENCY`` at a time per web
process: a hostile expression or sample costs one bounded child, never a web worker.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings

from pipelines import validation
from projects.streams import raw_stream

MAX_RECORDS = 200
MAX_INPUT_BYTES = 512 * 1024


class PlaygroundError(ValueError):
    """The sample records or the expressions cannot be run; the message says what to fix."""


@dataclass(frozen=True)
class RecordResult:
    index: int
    status: str  # "passed", "dropped", "filter error" or "dead letter"
    output: str  # pretty JSON of the transformed record when passed
    reason: str


def parse_records(text: str) -> list[dict]:
    """A JSON array of record objects (a single object is accepted too)."""
    if len(text.encode()) > MAX_INPUT_BYTES:
        raise PlaygroundError(f"the sample is larger than {MAX_INPUT_BYTES // 1024} KiB; paste fewer records")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise PlaygroundError(f"the records are not valid JSON: {exc}") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PlaygroundError("paste a JSON array of record objects, like [{\"body\": \"...\"}]")
    if len(value) > MAX_RECORDS:
        raise PlaygroundError(f"at most {MAX_RECORDS} records can be tried at once")
    return value


_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _slot() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.PLAYGROUND_CONCURRENCY)
        return _slots


def validate(filter_source: str, transforms: list[dict]) -> tuple[str, list[dict]]:
    """The same checks as saving the pipeline (``PipelineSerializer``), with the same messages."""
    problems = []
    try:
        filter_source = validation.clean_filter(filter_source)
    except ValueError as exc:
        problems.append(f"filter: {exc}")
    try:
        transforms = validation.clean_transforms(transforms)
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        raise PlaygroundError("; ".join(problems))
    return filter_source, transforms


def run(filter_source: str, transforms: list[dict], records: list[dict]) -> list[RecordResult]:
    """Run the records through filter and transforms exactly as the worker does, within the limits."""
    filter_source, transforms = validate(filter_source, transforms)
    request = json.dumps({"filter": filter_source, "transforms": transforms, "records": records,
                          "cpu_seconds": settings.PLAYGROUND_CPU_SECONDS,
                          "memory_bytes": settings.PLAYGROUND_MEMORY_BYTES}).encode()
    slot = _slot()
    if not slot.acquire(timeout=2):
        raise PlaygroundError("the playground is busy with other samples right now; try again in a moment")
    try:
        # -E -s and an empty environment: the child sees no DATABASE_URL, SECRET_KEY or tokens.
        child = subprocess.run([sys.executable, "-E", "-s", "-m", "pipelines.playground_child"], input=request,
                               capture_output=True, cwd=settings.BASE_DIR, env={"LANG": "C.UTF-8"},
                               timeout=settings.PLAYGROUND_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise PlaygroundError(f"the sample did not finish within {settings.PLAYGROUND_TIMEOUT_SECONDS} s and was "
                              "stopped; try fewer records or simpler expressions") from None
    finally:
        slot.release()
    try:
        answer = json.loads(child.stdout)
    except ValueError:
        raise PlaygroundError(_stopped_message("killed")) from None
    if answer.get("error"):
        raise PlaygroundError(answer["error"])
    results = [RecordResult(*row) for row in answer["results"]]
    if answer["stopped"]:
        raise PlaygroundError(_stopped_message(answer["stopped"], done=len(results)))
    return results


def _stopped_message(reason: str, done: int = 0) -> str:
    limit = {"cpu": f"more than {settings.PLAYGROUND_CPU_SECONDS:g} s of CPU",
             "memory": f"more than {settings.PLAYGROUND_MEMORY_BYTES // 1024**2} MiB of memory"}
    used = limit.get(reason, f"more than {settings.PLAYGROUND_CPU_SECONDS:g} s of CPU or "
                             f"{settings.PLAYGROUND_MEMORY_BYTES // 1024**2} MiB of memory")
    return (f"the sample needed {used} and was stopped after {done} record(s); "
            "try fewer records or simpler expressions")


async def recent_raw_records(js, project_id: UUID, limit: int = 20) -> list[dict]:
    """The last ``limit`` records of the project's raw stream, oldest first.

    Walks back from the stream's last sequence; gaps (deleted or aged-out messages) are skipped,
    with a bound on how far back to look so an almost empty stream answers quickly.
    """
    from nats.js.errors import NotFoundError

    stream = raw_stream(project_id)
    info = await js.stream_info(stream)
    first, seq = info.state.first_seq, info.state.last_seq
    found: list[dict] = []
    tries = 0
    while seq >= max(first, 1) and len(found) < limit and tries < limit * 3:
        tries += 1
        try:
            message = await js.get_msg(stream, seq)
        except NotFoundError:
            seq -= 1
            continue
        try:
            record = json.loads(message.data or b"null")
        except ValueError:
            record = None
        if isinstance(record, dict):
            found.append(record)
        seq -= 1
    found.reverse()
    return found
