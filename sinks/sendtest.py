"""The "send test message" action and the merge of the worker's live status into a sink's last error.

The test goes through the same async transport as the worker (one attempt, no retries),
run with ``asyncio.run`` from the synchronous view. The worker cannot write the database,
so what it knows (``gf-ai-stats`` key ``{projectId}.sink.{sinkId}``) is merged into the
sink's ``last_error``/``last_error_at`` when the API serves it.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings
from django.utils import timezone

from glassflow_site.timestamps import now_rfc3339, parse_rfc3339
from outbound import Outbound
from projects.natsbridge import NatsUnavailable, bridge
from sinks.kinds import get_kind
from sinks.kinds.base import USER_AGENT, DeliveryContext, TransportError
from sinks.models import Sink
from sinks.worker.tally import read_stats

logger = logging.getLogger(__name__)

TEST_TIMEOUT = 10.0


def sample_output_message(project_id: object) -> dict:
    return {
        "projectId": str(project_id),
        "requestId": "glassflow-test-message",
        "receivedAt": now_rfc3339(),
        "payload": {
            "summary": "Test message from GlassFlow: this sink is configured correctly.",
            "severity": "info",
            "root_cause": "You pressed \"Send test message\".",
            "remediation": "Nothing to do.",
            "test": True,
        },
    }


async def deliver_once(sink: Sink, message: dict) -> None:
    async with Outbound(allow_private=settings.ALLOW_PRIVATE_TARGETS, user_agent=USER_AGENT) as client:
        await get_kind(sink.kind).deliver(sink.config, message, DeliveryContext(client, TEST_TIMEOUT))


def send_test_message(sink: Sink) -> str | None:
    """Send a sample output message now; returns None on success or the error, which is also stored."""
    try:
        asyncio.run(deliver_once(sink, sample_output_message(sink.project_id)))
    except TransportError as exc:
        sink.last_error, sink.last_error_at = exc.message, timezone.now()
        sink.save(update_fields=["last_error", "last_error_at", "updated_at"])
        return exc.message
    if sink.last_error:
        sink.last_error = ""  # it works now; keep last_error_at as the time of the last failure
        sink.save(update_fields=["last_error", "updated_at"])
    return None


def live_status(project_id: object) -> dict[str, dict]:
    """The worker's view of each sink of the project ({} when NATS cannot be asked right now)."""
    bucket = settings.STATS_BUCKET
    prefix = f"{project_id}.sink"
    try:
        values = bridge.call(lambda js: read_stats(js, bucket, prefix), timeout=3)
    except NatsUnavailable as exc:
        logger.info("sink status of project %s not merged: %s", project_id, exc)
        return {}
    return {key.removeprefix(f"{prefix}."): value for key, value in values.items()}


def merge_status(data: dict, status: dict | None) -> dict:
    """Serialized sink + the worker's status: the newest error wins; a later success clears the message."""
    if not status:
        return data
    stored_at = parse_rfc3339(data.get("last_error_at"))
    worker_at = parse_rfc3339(status.get("lastErrorAt"))
    if worker_at and (stored_at is None or worker_at > stored_at):
        data["last_error"], data["last_error_at"] = status.get("lastError") or "", status["lastErrorAt"]
        stored_at = worker_at
    success_at = parse_rfc3339(status.get("lastSuccessAt"))
    if success_at and stored_at and success_at > stored_at:
        data["last_error"] = ""
    return data
