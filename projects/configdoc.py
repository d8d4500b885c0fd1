"""The project configuration document: the one serializer behind the KV bucket and the internal API.

It carries what the data plane needs and nothing it must not have: API keys only as
prefix + SHA-256 hash, never raw; agent headers and sink secrets in clear, because the
workers must send them (the bucket and the internal endpoint are service-only).
"""

from __future__ import annotations

from django.utils import timezone

from glassflow_site.timestamps import format_rfc3339
from projects.models import Project
from projects.streams import dlq_stream, output_stream, raw_stream

SCHEMA_VERSION = 1


def minutes_as_seconds(minutes: int | None) -> int | None:
    """Settings the user gives in minutes travel in seconds, so tests and tools may use less than a minute."""
    return None if minutes is None else minutes * 60


def build_config_document(project: Project) -> dict:
    from pipelines.models import Pipeline

    try:
        pipeline = project.pipeline
    except Pipeline.DoesNotExist:
        pipeline = Pipeline(project=project)
    keys = project.api_keys.filter(revoked_at__isnull=True).order_by("prefix")
    return {
        "schema": SCHEMA_VERSION,
        "projectId": str(project.pk),
        "name": project.name,
        "version": project.config_version,
        "generatedAt": format_rfc3339(timezone.now(), timespec="microseconds"),
        "streams": {"raw": raw_stream(project.pk), "output": output_stream(project.pk),
                    "dlq": dlq_stream(project.pk)},
        "apiKeys": [{"id": key.pk, "prefix": key.prefix, "hash": key.key_hash} for key in keys],
        "pipeline": {
            "enabled": pipeline.enabled,
            "filter": pipeline.filter,
            "transforms": pipeline.transforms,
            "agentEndpoint": pipeline.agent_endpoint,
            "agentHeaders": pipeline.agent_headers,
            "batchSize": pipeline.batch_size,
            "batchMaxWaitMs": pipeline.batch_max_wait_ms,
            "signals": pipeline.signals,
            "requestTimeoutMs": pipeline.request_timeout_ms,
            "maxConcurrency": pipeline.max_concurrency,
            "maxBatchesPerMinute": pipeline.max_batches_per_minute,
            "maxRecordsPerDay": pipeline.max_records_per_day,
            "deadLetterAfterSeconds": minutes_as_seconds(pipeline.dead_letter_after_minutes),
            "retry": {
                "initialBackoffMs": pipeline.retry_initial_backoff_ms,
                "maxBackoffMs": pipeline.retry_max_backoff_ms,
            },
        },
        "sinks": [
            {"id": str(sink.pk), "name": sink.name, "kind": sink.kind, "enabled": sink.enabled,
             "generation": sink.consumer_generation, "config": sink.config,
             "deadLetterAfterSeconds": minutes_as_seconds(sink.dead_letter_after_minutes),
             "maxConcurrency": sink.max_concurrency}
            for sink in project.sinks.order_by("created_at")
        ],
    }
