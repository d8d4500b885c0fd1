"""Dead-letter entries of the sink stage, published to ``gf-ai-dlq.{projectId}.sink``.

The entry carries the whole output message, so a replay can put it back on the output
stream unchanged. Its Nats-Msg-Id is derived from the sink and the output's stream
sequence: if we die after the DLQ publish but before the ack, the redelivered message's
second DLQ entry is dropped by JetStream's duplicate window.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from nats.js import JetStreamContext

from glassflow_site.timestamps import now_rfc3339
from projects.streams import dlq_subject

REPLAY_SINK_HEADER = "Gf-Replay-Sink"


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
    """The entry as JSON within ``max_bytes``. An output too large to fit beside the entry's own
    fields is kept as its text, cut to fit and marked ``truncated`` (it can be inspected, not
    replayed): an entry that can never be stored would keep its message from ever being acked."""
    payload = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode()
    if len(payload) <= max_bytes:
        return payload
    text = json.dumps(entry["output"], ensure_ascii=False)
    room = max(0, max_bytes - (len(payload) - len(text.encode())) - 1024)
    smaller = {**entry, "output": text.encode()[:room].decode("utf-8", errors="ignore"), "truncated": True}
    return json.dumps(smaller, separators=(",", ":"), ensure_ascii=False).encode()


async def publish_dead_letter(js: JetStreamContext, entry: dict, stream_sequence: int | None,
                              max_bytes: int = 1024 * 1024 - 16 * 1024) -> None:
    """Publish and wait for JetStream's acknowledgement; raises if it did not store the entry."""
    msg_id = f"dlq-sink-{entry['sinkId']}-{stream_sequence}" if stream_sequence else entry["id"]
    await js.publish(dlq_subject(entry["projectId"], "sink"), encode_dead_letter(entry, max_bytes),
                     headers={"Nats-Msg-Id": msg_id})
