"""Dead-letter entries: what the workers publish to ``gf-ai-dlq.{id}.{stage}`` when they give up.

The format is the contract with the DLQ API and UI (list, replay, discard); see
docs/pipeline-worker.md. A pipeline entry's ``records`` holds the raw records exactly as they
were read from the raw stream, so a replay republishes them to ``subject`` unchanged. A sink
entry carries the whole output message, so a replay can put it back on the output stream
unchanged (to the one sink named by ``REPLAY_SINK_HEADER``).

Pure: building and encoding only; deadletters/publish.py writes entries to JetStream.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from glassflow_site.timestamps import format_rfc3339, now_rfc3339

STAGE = "pipeline"
REPLAY_SINK_HEADER = "Gf-Replay-Sink"
# Fixed namespace so an entry's id is a function of the messages it holds: a redelivered
# batch that fails again produces the same id and JetStream's duplicate window drops it.
ENTRY_NAMESPACE = uuid.UUID("6f1d3c1e-53a4-4f0e-9a54-2b1f8d0b7c61")


def entry_id(project_id: str, subject: str, stream_sequences: list[int]) -> str:
    key = f"{project_id}|{subject}|{','.join(str(seq) for seq in sorted(stream_sequences))}"
    return str(uuid.uuid5(ENTRY_NAMESPACE, key))


def decode_raw(data: bytes) -> Any:
    """The original record as JSON, or its text when it was not JSON (so it can still be inspected)."""
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", errors="replace")


def build_entry(*, project_id: str, reason: str, attempts: int, last_error: str, request_id: str | None,
                records: list[Any], subject: str, failed_at: datetime, id: str) -> dict[str, Any]:  # noqa: A002
    return {
        "id": id,
        "projectId": project_id,
        "stage": STAGE,
        "reason": reason,
        "attempts": attempts,
        "lastError": last_error,
        "failedAt": format_rfc3339(failed_at),
        "requestId": request_id,
        "records": records,
        "subject": subject,
    }


def encode_entries(entry: dict[str, Any], max_bytes: int) -> list[tuple[str, bytes]]:
    """Serialise an entry, splitting its records over several entries when it exceeds ``max_bytes``.

    Each part gets its own id (derived from the first) and carries ``part``/``parts``.
    A single record larger than the limit is kept as its text cut to fit, with
    ``truncated: true``, because dropping it silently would be worse.
    """
    payload = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()
    if len(payload) <= max_bytes:
        return [(entry["id"], payload)]
    records = entry["records"]
    if len(records) == 1:
        text = json.dumps(records[0], ensure_ascii=False)
        cut = max(0, max_bytes - (len(payload) - len(text.encode())) - 1024)
        smaller = dict(entry, records=[text.encode()[:cut].decode("utf-8", errors="ignore")], truncated=True)
        return [(entry["id"], json.dumps(smaller, separators=(",", ":"), ensure_ascii=False).encode())]
    middle = len(records) // 2
    parts: list[tuple[str, bytes]] = []
    for half in (records[:middle], records[middle:]):
        parts.extend(encode_entries(dict(entry, records=half), max_bytes))
    total = len(parts)
    renumbered = []
    for index, (_, data) in enumerate(parts, start=1):
        part = json.loads(data)
        part["id"] = str(uuid.uuid5(ENTRY_NAMESPACE, f"{entry['id']}|{index}"))
        part["part"], part["parts"] = index, total
        renumbered.append((part["id"], json.dumps(part, separators=(",", ":"), ensure_ascii=False).encode()))
    return renumbered


def sink_dead_letter(*, project_id: str, sink: dict, reason: str, attempts: int, last_error: str,
                     output: Any, subject: str) -> dict:
    return {
        "id": uuid.uuid4().hex,
        "projectId": project_id,
        "stage": "sink",
        "sinkId": sink["id"],
        "sinkName": sink.get("name", ""),
        "reason": reason,
        "attempts": attempts,
        "lastError": last_error,
        "failedAt": now_rfc3339(),
        "output": output,
        "subject": subject,
    }


def encode_dead_letter(entry: dict, max_bytes: int) -> bytes:
    """The sink entry as JSON within ``max_bytes``. An output too large to fit beside the entry's own
    fields is kept as its text, cut to fit and marked ``truncated`` (it can be inspected, not
    replayed): an entry that can never be stored would keep its message from ever being acked."""
    payload = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()
    if len(payload) <= max_bytes:
        return payload
    text = json.dumps(entry["output"], ensure_ascii=False)
    room = max(0, max_bytes - (len(payload) - len(text.encode())) - 1024)
    smaller = {**entry, "output": text.encode()[:room].decode("utf-8", errors="ignore"), "truncated": True}
    return json.dumps(smaller, separators=(",", ":"), ensure_ascii=False).encode()
