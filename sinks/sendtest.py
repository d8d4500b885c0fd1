"""The "send test message" action: one sample output message delivered to a sink now.

The test goes through the same async transport as the worker (one attempt, no retries),
run with ``asyncio.run`` from the synchronous view. A failure is stored as the sink's last
error (``sinks/status.py`` merges it with what the workers saw).
"""

from __future__ import annotations

import asyncio

from django.conf import settings
from django.utils import timezone

from glassflow_site.timestamps import now_rfc3339
from outbound import Outbound
from sinks.kinds import get_kind
from sinks.kinds.base import USER_AGENT, DeliveryContext, TransportError
from sinks.models import Sink

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
