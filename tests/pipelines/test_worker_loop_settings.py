"""Both workers' settings come from Django settings the same way (glassflow_site/workerloop.py)."""

from __future__ import annotations

import pytest

from glassflow_site.workerloop import WorkerLoopSettings
from ingest.receiver.receiver_config import ReceiverConfig
from outbound import RetryPolicy
from pipelines.worker import PipelineWorkerSettings
from sinks.worker.consumer import ConsumerOptions
from sinks.worker.worker import SinkWorkerSettings

CONSUMER = ConsumerOptions(retry=RetryPolicy(initial_backoff=1, max_backoff=2), request_timeout=3)


@pytest.mark.parametrize("build", [PipelineWorkerSettings.from_settings,
                                   lambda: SinkWorkerSettings.from_settings(consumer=CONSUMER)])
def test_both_workers_read_the_same_django_settings(settings, build):
    settings.CONFIG_BUCKET, settings.STATS_BUCKET = "cfg-under-test", "stats-under-test"
    settings.NATS_SERVERS, settings.STREAM_REPLICAS = ["nats://a:4222", "nats://b:4222"], 3
    settings.ALLOW_PRIVATE_TARGETS = True
    worker_settings = build()
    assert isinstance(worker_settings, WorkerLoopSettings)
    assert worker_settings.config_bucket == "cfg-under-test" and worker_settings.stats_bucket == "stats-under-test"
    assert worker_settings.servers == ["nats://a:4222", "nats://b:4222"] and worker_settings.replicas == 3
    assert worker_settings.allow_private_targets and worker_settings.stream_limits is not None


def test_the_config_bucket_name_defaults_to_the_setting_everywhere(settings):
    settings.CONFIG_BUCKET = "cfg-default-under-test"
    assert PipelineWorkerSettings().config_bucket == "cfg-default-under-test"
    assert SinkWorkerSettings(consumer=CONSUMER).config_bucket == "cfg-default-under-test"
    assert ReceiverConfig().config_bucket == "cfg-default-under-test"
