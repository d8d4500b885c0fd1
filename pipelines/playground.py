"""The pipeline editor's playground: run unsaved filter and transforms over sample records.

It reuses the worker's pure stages (``pipelines.stages``), so what the playground shows
is what the pipeline worker would do, and reads a project's most recent raw records
from its JetStream stream for "load recent records".
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pipelines.stages import ConfigError, Outcome, PipelineConfig, TransformSpec, compile_pipeline
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


def run(filter_source: str, transforms: list[dict], records: list[dict]) -> list[RecordResult]:
    """Run the records through filter and transforms exactly as the worker does."""
    config = PipelineConfig(
        project_id="playground", filter=filter_source.strip(),
        transforms=tuple(TransformSpec(row.get("expression", ""), row.get("output_name", ""),
                                       row.get("output_type") or "string") for row in transforms))
    try:
        pipeline = compile_pipeline(config)
    except ConfigError as exc:
        raise PlaygroundError(str(exc).split(": ", 1)[-1]) from None
    results = []
    for index, record in enumerate(records, start=1):
        # The stages update the record in place; the sample on screen must stay as pasted.
        outcome, value = pipeline.process(copy.deepcopy(record))
        if outcome is Outcome.PASSED:
            results.append(RecordResult(index, "passed", _pretty(value), ""))
        elif outcome is Outcome.FILTERED:
            results.append(RecordResult(index, "dropped", "", "the filter returned false"))
        elif outcome is Outcome.FILTER_ERROR:
            results.append(RecordResult(index, "filter error", "", f"{value} (counted as no match)"))
        else:
            results.append(RecordResult(index, "dead letter", "", str(value)))
    return results


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


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
