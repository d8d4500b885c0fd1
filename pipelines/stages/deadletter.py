"""Dead-letter entries: what the worker publishes to ``gf-ai-dlq.{id}.pipeline`` when it gives up.

The format is the contract with the DLQ API and UI (list, replay, discard); see
docs/pipeline-worker.md. ``records`` holds the raw records exactly as they were
read from the raw stream, so a replay republishes them to ``subject`` unchanged.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from glassflow_site.timestamps import format_rfc3339

STAGE = "pipeline"
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
