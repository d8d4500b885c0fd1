"""Reading and replaying a project's run history (stream ``gf-ai-runs-{id}``, see runs.recorder).

Async and free of Django: the API and the UI run these through the NATS bridge. A run is the
fold of its events (start, attempts, outcome, outputs), which share one subject. Listing walks
the stream backwards from the newest event (``projects.streamscan``) and lists a run
where its ``start`` event is found; events of that run stored later are either already in the
scanned window or fetched by subject. The cursor is the sequence of the last start listed.
"""

from __future__ import annotations

import asyncio
import json

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from projects.streams import SIGNAL_SUBJECT, raw_subject, runs_stream, runs_subject
from projects.streamscan import NewestFirst, Page, newest_page
from runs.recorder import run_token

MAX_EVENTS_PER_RUN = 1_000
STATUSES = ("delivered", "retrying", "in-flight", "dead-lettered", "released", "unknown")
FILTERS = STATUSES + ("no-output",)


class RunNotFound(LookupError):
    pass


class ReplayError(ValueError):
    """The run cannot be replayed; the message says why."""


def fold(request_id: str | None, events: list[dict]) -> dict:
    """One run from its events in stored order."""
    run: dict = {"requestId": request_id, "projectId": None, "count": None, "startedAt": None, "finishedAt": None,
                 "records": None, "truncated": False, "subjects": [], "attempts": [], "outcome": None,
                 "outputs": []}
    for event in events:
        kind = event.get("type")
        if kind == "start":
            run.update({key: event.get(key) for key in ("projectId", "count", "records", "subjects")})
            run["requestId"] = event.get("requestId") or request_id
            run["startedAt"], run["truncated"] = event.get("at"), bool(event.get("truncated"))
        elif kind == "attempt":
            run["attempts"].append({key: event.get(key) for key in ("n", "status", "error", "latencyMs", "at")})
        elif kind == "outcome":
            run["outcome"], run["finishedAt"] = event.get("outcome"), event.get("at")
        elif kind == "output":
            run["outputs"].append({"receivedAt": event.get("receivedAt"), "payload": event.get("payload"),
                                   "truncated": bool(event.get("truncated"))})
    attempts = run["attempts"]
    if run["outcome"]:
        status = run["outcome"]
    elif run["startedAt"] is None:
        status = "unknown"  # only outputs (or a start that aged out of the stream)
    elif attempts and not (attempts[-1]["status"] and 200 <= attempts[-1]["status"] < 300):
        status = "retrying"
    else:
        status = "in-flight"
    run["status"] = status
    # The agent answered 2xx but no output came back with this request id (yet).
    run["noOutput"] = status == "delivered" and not run["outputs"]
    return run


def summary(run: dict) -> dict:
    """A run without its records and with only the first output: what a list shows."""
    brief = {key: value for key, value in run.items() if key not in ("records", "outputs")}
    brief["outputCount"] = len(run["outputs"])
    brief["firstOutput"] = run["outputs"][0]["payload"] if run["outputs"] else None
    return brief


def matches(run: dict, wanted: str | None) -> bool:
    if not wanted:
        return True
    return run["noOutput"] if wanted == "no-output" else run["status"] == wanted


def _decode(data: bytes | None) -> dict:
    try:
        event = json.loads(data or b"")
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


async def _events_by_subject(js: JetStreamContext, stream: str, subject: str, start: int) -> list[dict]:
    events, seq = [], max(start, 1)
    while len(events) < MAX_EVENTS_PER_RUN:
        try:
            msg = await js.get_msg(stream, seq, subject=subject, next=True)
        except NotFoundError:
            break
        events.append(_decode(msg.data))
        seq = msg.seq + 1
    return events


async def list_runs(js: JetStreamContext, project_id: object, *, status: str | None = None, limit: int = 50,
                    cursor: int | None = None) -> Page:
    """A page of runs, newest first, optionally only those with ``status`` (or ``no-output``)."""
    stream = runs_stream(project_id)
    seen: dict[str, list[tuple[int, dict]]] = {}

    async def run_started(scan: NewestFirst, seq: int, msg) -> dict | None:
        """The run whose ``start`` event is at ``seq``; events scanned before it are its later ones."""
        token = msg.subject.rsplit(".", 1)[-1]
        event = _decode(msg.data)
        seen.setdefault(token, []).append((seq, event))
        if event.get("type") != "start":
            return None
        events = [e for _, e in sorted(seen.pop(token))]
        if scan.top < scan.last:  # events stored after the window we scanned (pages after the first)
            events += await _events_by_subject(js, stream, msg.subject, scan.top + 1)
        run = fold(event.get("requestId"), events)
        return summary(run) if matches(run, status) else None

    return await newest_page(js, stream, cursor, limit, run_started)


async def get_run(js: JetStreamContext, project_id: object, request_id: str) -> dict:
    stream = runs_stream(project_id)
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        raise RunNotFound(f"no run {request_id} in this project") from None
    events = await _events_by_subject(js, stream, runs_subject(project_id, run_token(request_id)),
                                      info.state.first_seq)
    if not events:
        raise RunNotFound(f"no run {request_id} in this project (it may have aged out of the run history)")
    return fold(request_id, events)


def replay_messages(project_id: object, run: dict) -> list[tuple[str, bytes, dict[str, str]]]:
    """(subject, data, headers) for each record of the run, back to the raw subject it came from."""
    if run.get("startedAt") is None or not isinstance(run.get("records"), list):
        raise ReplayError("the run's records are not in the run history (only its outputs are), "
                          "so it cannot be replayed")
    if run.get("truncated"):
        raise ReplayError("the run's batch was larger than the run history keeps (RUN_HISTORY_PREVIEW_BYTES); "
                          "only a preview was stored, so it cannot be replayed")
    records, subjects = run["records"], run.get("subjects") or []
    if not records:
        raise ReplayError("the run has no records to replay")
    if len(subjects) == 1:
        subjects = subjects * len(records)
    if len(subjects) != len(records):
        raise ReplayError("the run's records and their subjects do not match; it cannot be replayed")
    allowed = {raw_subject(project_id, signal) for signal in SIGNAL_SUBJECT}
    for subject in set(subjects):
        if subject not in allowed:
            raise ReplayError(f"the run's subject {subject!r} is not a raw subject of this project")
    base_id = f"replay-run-{run_token(run['requestId'])}"
    # Msg ids derived from the run: a double click within the duplicate window replays once.
    return [(subject, json.dumps(record, separators=(",", ":")).encode(), {"Nats-Msg-Id": f"{base_id}-{i}"})
            for i, (subject, record) in enumerate(zip(subjects, records, strict=True))]


async def replay_run(js: JetStreamContext, project_id: object, request_id: str) -> int:
    """Publish the run's records to the raw stream again (they run through the pipeline anew)."""
    messages = replay_messages(project_id, await get_run(js, project_id, request_id))
    await asyncio.gather(*(js.publish(subject, data, headers=headers) for subject, data, headers in messages))
    return len(messages)
