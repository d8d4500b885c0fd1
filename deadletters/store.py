"""Read, replay and discard a project's dead letters in its ``gf-ai-dlq-{id}`` stream.

Async and free of Django: the API runs these through the NATS bridge. Entries are read by
stream sequence, newest first (``projects.streamscan``); the sequence is the entry's identity
in the API. A replay re-publishes what failed where it came from and
then deletes the entry; its Nats-Msg-Ids are derived from the DLQ entry, so a double click
within JetStream's duplicate window does not replay twice, while they never collide with
the ids of the original messages.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from deadletters.entries import REPLAY_SINK_HEADER
from glassflow_site.timestamps import format_rfc3339
from projects.streams import DLQ_STAGES, SIGNAL_SUBJECT, dlq_stream, dlq_subject, output_subject, raw_subject
from projects.streamscan import CHUNK, MAX_SEQ, NewestFirst, Page, get_message, newest_page

NO_MESSAGE = 10057  # JetStream's answer to deleting a sequence that is not (or no longer) there


class EntryNotFound(LookupError):
    pass


class ReplayError(ValueError):
    """The entry cannot be replayed; the message says why."""


def decode_entry(project_id: object, seq: int, subject: str | None, data: bytes | None, time: Any = None) -> dict:
    """The API's view of one stored entry: the entry's own fields plus seq, stage and storedAt."""
    stage = (subject or "").rsplit(".", 1)[-1]
    try:
        entry = json.loads(data or b"")
        if not isinstance(entry, dict):
            raise ValueError("not an object")
    except ValueError:
        entry = {"reason": "unreadable dead-letter entry", "raw": (data or b"").decode(errors="replace")}
    entry = {**entry, "seq": seq, "stage": entry.get("stage", stage)}
    if time is not None:
        entry["storedAt"] = format_rfc3339(time, timespec="microseconds")
    return entry


async def list_entries(js: JetStreamContext, project_id: object, *, stage: str | None = None, limit: int = 50,
                       cursor: int | None = None) -> Page:
    """A page of entries, newest first; ``cursor`` continues below the sequence it names."""
    wanted = dlq_subject(project_id, stage) if stage else None

    async def entry(scan: NewestFirst, seq: int, msg) -> dict | None:
        if wanted and msg.subject != wanted:
            return None
        return decode_entry(project_id, seq, msg.subject, msg.data, msg.time)

    return await newest_page(js, dlq_stream(project_id), cursor, limit, entry)


async def get_entry(js: JetStreamContext, project_id: object, seq: int) -> dict:
    msg = await get_message(js, dlq_stream(project_id), seq)
    if msg is None:
        raise EntryNotFound(f"no dead letter {seq} in this project")
    return decode_entry(project_id, seq, msg.subject, msg.data, msg.time)


async def _delete(js: JetStreamContext, project_id: object, seq: int) -> bool:
    """Delete one entry; False if it was not there (already replayed, discarded or aged out)."""
    if not 1 <= seq <= MAX_SEQ:
        return False
    try:
        await js.delete_msg(dlq_stream(project_id), seq)
    except NotFoundError:
        return False
    except APIError as exc:
        if exc.err_code != NO_MESSAGE:
            raise
        return False
    return True


async def delete_entry(js: JetStreamContext, project_id: object, seq: int) -> None:
    if not await _delete(js, project_id, seq):
        raise EntryNotFound(f"no dead letter {seq} in this project")


def replay_messages(project_id: object, entry: dict) -> list[tuple[str, bytes, dict[str, str]]]:
    """(subject, data, headers) of every message a replay publishes. Subjects are always the
    project's own: an entry can never send data into another project's streams."""
    base_id = f"replay-{project_id}-{entry['seq']}"
    if entry.get("truncated"):
        raise ReplayError("the entry was too large to store whole and was truncated; it cannot be replayed")
    if entry.get("stage") == "pipeline":
        subject = entry.get("subject") or raw_subject(project_id, "logs")
        allowed = {raw_subject(project_id, signal) for signal in SIGNAL_SUBJECT}
        if subject not in allowed:
            raise ReplayError(f"the entry's subject {subject!r} is not a raw subject of this project")
        records = entry.get("records")
        if not isinstance(records, list) or not records:
            raise ReplayError("the entry has no records to replay")
        # A record that was not JSON is kept as its text by the pipeline: put back the same bytes.
        return [(subject, record.encode() if isinstance(record, str) else json.dumps(record, separators=(",", ":"))
                 .encode(), {"Nats-Msg-Id": f"{base_id}-{i}"}) for i, record in enumerate(records)]
    if entry.get("stage") == "sink":
        output, sink_id = entry.get("output"), entry.get("sinkId")
        if output is None or not sink_id:
            raise ReplayError("the entry has no output message or sink to replay")
        data = output.encode() if isinstance(output, str) else json.dumps(output, separators=(",", ":")).encode()
        return [(output_subject(project_id), data, {"Nats-Msg-Id": base_id, REPLAY_SINK_HEADER: str(sink_id)})]
    raise ReplayError(f"unknown stage {entry.get('stage')!r}; expected one of {', '.join(DLQ_STAGES)}")


def check_replayable(entry: dict, sinks: set[str]) -> None:
    """A sink entry goes back only to its own sink, which must still exist and be enabled (``sinks``: their ids)."""
    if entry.get("stage") == "sink" and str(entry.get("sinkId")) not in sinks:
        raise ReplayError("the sink of this entry no longer exists or is disabled; "
                          "enable it (or discard the entry) first")


async def replay_entry(js: JetStreamContext, project_id: object, entry: dict) -> int:
    """Publish the entry's messages (waiting for every PubAck), then delete the entry; returns messages sent."""
    messages = replay_messages(project_id, entry)
    await asyncio.gather(*(js.publish(subject, data, headers=headers) for subject, data, headers in messages))
    # False when replayed concurrently by someone else: the msg ids above made our publish a duplicate.
    await _delete(js, project_id, entry["seq"])
    return len(messages)


async def all_sequences(js: JetStreamContext, project_id: object, stage: str | None) -> list[int]:
    """Sequences of every entry (of one stage) present now, oldest first. Entries added while a
    bulk replay runs (for example a replayed message failing again) are not included."""
    stream = dlq_stream(project_id)
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        return []
    wanted = dlq_subject(project_id, stage) if stage else None
    sequences, seq = [], max(info.state.first_seq, 1)
    while seq <= info.state.last_seq:
        chunk = list(range(seq, min(info.state.last_seq, seq + CHUNK - 1) + 1))
        for s, msg in zip(chunk, await asyncio.gather(*(get_message(js, stream, s) for s in chunk)), strict=True):
            if msg is not None and (not wanted or msg.subject == wanted):
                sequences.append(s)
        seq = chunk[-1] + 1
    return sequences


async def discard_all(js: JetStreamContext, project_id: object, stage: str | None) -> int:
    """Purge every entry (of one stage); returns how many there were."""
    stream = dlq_stream(project_id)
    try:
        info = await js.stream_info(stream, subjects_filter=f"gf-ai-dlq.{project_id}.>")
    except NotFoundError:
        return 0
    subjects = info.state.subjects or {}
    count = subjects.get(dlq_subject(project_id, stage), 0) if stage else info.state.messages
    if count:
        # Only up to what was counted: entries that arrive meanwhile were never shown, so they stay.
        await js.purge_stream(stream, subject=dlq_subject(project_id, stage) if stage else None,
                              seq=info.state.last_seq + 1)
    return count


async def replay_one(js: JetStreamContext, project_id: object, seq: int, sinks: set[str]) -> int:
    """Replay entry ``seq`` if it may be (``check_replayable``); returns the messages sent."""
    entry = await get_entry(js, project_id, seq)
    check_replayable(entry, sinks)
    return await replay_entry(js, project_id, entry)


async def _each(sequences: list[int], step) -> tuple[int, list[tuple[int, str]]]:
    done, failed = 0, []
    for seq in sequences:
        try:
            await step(seq)
            done += 1
        except (EntryNotFound, ReplayError) as exc:
            failed.append((seq, str(exc)))
    return done, failed


async def replay_many(js: JetStreamContext, project_id: object, sequences: list[int] | None, stage: str | None,
                      sinks: set[str]) -> tuple[int, list[tuple[int, str]]]:
    """Replay ``sequences`` (None: every entry of ``stage`` present now): how many, and (seq, why not) of the rest."""
    if sequences is None:
        sequences = await all_sequences(js, project_id, stage)
    return await _each(sequences, lambda seq: replay_one(js, project_id, seq, sinks))


async def discard_many(js: JetStreamContext, project_id: object, sequences: list[int] | None,
                       stage: str | None) -> tuple[int, list[tuple[int, str]]]:
    """Discard ``sequences`` (None: purge every entry of ``stage``): how many, and (seq, why not) of the rest."""
    if sequences is None:
        return await discard_all(js, project_id, stage), []
    return await _each(sequences, lambda seq: delete_entry(js, project_id, seq))
