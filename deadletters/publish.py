"""Writing dead-letter entries to JetStream: both workers' side of deadletters/entries.py.

The pipeline worker's ``DeadLetterWriter.write`` returns True once JetStream acknowledged
every entry (the caller then acks the originals) and False when storing failed (the caller
naks them so they come back). Entries are grouped by original subject, so a replay can
republish each entry's records to its ``subject``.

The sink worker's ``publish_dead_letter`` derives the entry's Nats-Msg-Id from the sink and the
output's stream sequence: if the worker dies after the DLQ publish but before the ack, the
redelivered message's second DLQ entry is dropped by JetStream's duplicate window.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from deadletters.entries import build_entry, decode_raw, encode_dead_letter, encode_entries, entry_id
from projects.streams import dlq_subject

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT_SECONDS = 5.0


def stream_sequence(msg: Msg) -> int:
    try:
        return msg.metadata.sequence.stream
    except Exception:  # noqa: BLE001 -- a message without JetStream metadata still gets a stable-enough id
        return hash(msg.data) & 0x7FFFFFFF


class DeadLetterWriter:
    def __init__(self, js: JetStreamContext, project_id: str, max_payload: int):
        self.js = js
        self.project_id = project_id
        self.subject = dlq_subject(project_id, "pipeline")
        # Leave room for headers and protocol overhead under the server's max_payload.
        self.max_bytes = max(64 * 1024, max_payload - 16 * 1024)

    async def write(self, msgs: list[Msg], *, reason: str, attempts: int, last_error: str,
                    request_id: str | None) -> bool:
        by_subject: dict[str, list[Msg]] = {}
        for msg in msgs:
            by_subject.setdefault(msg.subject, []).append(msg)
        failed_at = datetime.now(UTC)
        try:
            for subject, group in by_subject.items():
                entry = build_entry(
                    project_id=self.project_id, reason=reason, attempts=attempts, last_error=last_error,
                    request_id=request_id, records=[decode_raw(msg.data) for msg in group], subject=subject,
                    failed_at=failed_at,
                    id=entry_id(self.project_id, subject, [stream_sequence(msg) for msg in group]))
                for message_id, payload in encode_entries(entry, self.max_bytes):
                    # The id doubles as Nats-Msg-Id: a repeat of the same failure within the
                    # duplicate window is stored once.
                    await self.js.publish(self.subject, payload, timeout=PUBLISH_TIMEOUT_SECONDS,
                                          headers={"Nats-Msg-Id": message_id})
        except Exception:  # noqa: BLE001 -- not stored means not acked: the messages come back later
            logger.exception("project %s: could not store %d dead letter(s); they will be retried",
                             self.project_id, len(msgs))
            return False
        logger.warning("project %s: %d record(s) moved to the DLQ: %s", self.project_id, len(msgs), reason)
        return True


async def publish_dead_letter(js: JetStreamContext, entry: dict, stream_sequence: int | None,
                              max_bytes: int = 1024 * 1024 - 16 * 1024) -> None:
    """Publish a sink entry and wait for JetStream's acknowledgement; raises if it did not store it."""
    msg_id = f"dlq-sink-{entry['sinkId']}-{stream_sequence}" if stream_sequence else entry["id"]
    await js.publish(dlq_subject(entry["projectId"], "sink"), encode_dead_letter(entry, max_bytes),
                     headers={"Nats-Msg-Id": msg_id})
