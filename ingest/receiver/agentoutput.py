"""``POST /internal/agent-output``: an agent's result becomes one output message (ARCHITECTURE 4.3).

Body: ``{"payload": <any JSON>, "request_id": "<optional>"}`` (what the SDK's send_output
sends), authenticated with the project's key like OTLP. The message published to
``gf-ai-output.{id}.out`` is ``{"projectId", "requestId", "receivedAt", "payload"}``.

With a request_id the message's ``Nats-Msg-Id`` is derived from the body, so the SDK's retry
of the same call (after a lost answer or a 503) is stored once. Without one no id is set: two
agents may legitimately send identical payloads, and without an id we cannot tell a retry
from a second result.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from glassflow_site.timestamps import now_rfc3339
from projects.streams import output_subject
from runs.recorder import record_output

from .asgi import Receive, Scope, Send, header, header_map, respond_json, respond_rejected
from .body import RECORD_ROOM
from .errors import Rejected

if TYPE_CHECKING:
    from .app import ReceiverApp

PATH = "/internal/agent-output"
MAX_REQUEST_ID = 200


def received_at() -> str:
    return now_rfc3339()


def parse_output_request(body: bytes, header_request_id: str | None) -> tuple[object, str | None]:
    """(payload, request_id) of an agent-output body, or Rejected(400) saying what is wrong."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise Rejected(400, f"body is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or "payload" not in document:
        raise Rejected(400, 'body must be a JSON object with a "payload" field, '
                            'for example {"payload": {"summary": "..."}, "request_id": "..."}')
    request_id = document.get("request_id")
    if request_id is None:
        request_id = header_request_id  # an agent may pass the batch's X-Request-ID as a header instead
    if request_id is not None and (not isinstance(request_id, str) or len(request_id) > MAX_REQUEST_ID):
        raise Rejected(400, f"request_id must be a string of at most {MAX_REQUEST_ID} characters or null")
    return document["payload"], request_id or None


def output_id(request_id: str, body: bytes) -> str:
    return hashlib.sha256(request_id.encode() + b"\0" + body).hexdigest()[:32]


async def handle_agent_output(app: ReceiverApp, scope: Scope, receive: Receive, send: Send) -> int:
    headers = header_map(scope)
    try:
        if scope["method"] != "POST":
            raise Rejected(405, f"{PATH} accepts POST only")
        key = app.authenticate(headers)
        media_type = (header(headers, b"content-type") or "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            raise Rejected(415, f"unsupported content type {media_type[:60]!r}: send application/json")
        body = await app.read_request_body(scope, receive, headers, PATH)
        payload, request_id = parse_output_request(body, header(headers, b"x-request-id"))
        arrived = received_at()
        message = json.dumps({"projectId": key.project_id, "requestId": request_id,
                              "receivedAt": arrived, "payload": payload},
                             separators=(",", ":"), ensure_ascii=False).encode()
        if len(message) > app.runtime.nc.max_payload - RECORD_ROOM:
            raise Rejected(413, f"the output message is larger than the NATS message limit of "
                                f"{app.runtime.nc.max_payload} bytes: send a smaller payload")
        # The id covers the request id as well as the body: it may come from the X-Request-ID header,
        # and two batches whose agents answer with the same text must not collapse into one.
        msg_id = f"out-{output_id(request_id, body)}" if request_id else None
        duplicates = await app.publish(output_subject(key.project_id), [message], msg_id)
        if request_id and not duplicates:  # joins the output to its batch in the run history
            await record_output(app.runtime.nc, key.project_id, request_id, arrived, payload)
    except Rejected as exc:
        if exc.status >= 429:
            app.log_refusal(PATH, exc)
        await respond_rejected(send, exc, None)
        return exc.status
    await respond_json(send, 200, {"status": "accepted", "requestId": request_id, "duplicate": bool(duplicates)})
    return 200
