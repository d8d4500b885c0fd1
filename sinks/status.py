"""A sink's last error as the list page and the API show it: the database's merged with the workers'.

The sink workers cannot write the database, so what they know (``gf-ai-stats`` key
``{projectId}.sink.{sinkId}``) is merged into the sink's ``last_error``/``last_error_at``
whenever a sink is served: the newest error wins and a later success clears the message.
"""

from __future__ import annotations

import logging

from django.conf import settings

from glassflow_site.timestamps import parse_rfc3339
from projects.natsbridge import NatsUnavailable, bridge
from sinks.worker.tally import read_stats

logger = logging.getLogger(__name__)


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
