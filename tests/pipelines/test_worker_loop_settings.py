"""Both workers' settings come from Django settings the same way (glassflow_site/workerloop.py)."""

from __future__ import annotations

import asyncio

import pytest

from glassflow_site.workerloop import WorkerLoop, WorkerLoopSettings
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



class Overlaps(WorkerLoop):
    """A worker whose ``apply`` yields mid-way (as awaiting ``consumer.bind()`` does) and notes how
    many applies of one project ran at once."""

    def __init__(self):
        super().__init__(WorkerLoopSettings(config_bucket="b", stats_bucket="s"))
        self.running: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.applied: list[tuple[str, dict]] = []

    async def apply(self, project_id, document):
        self.running[project_id] = self.running.get(project_id, 0) + 1
        self.most[project_id] = max(self.most.get(project_id, 0), self.running[project_id])
        for _ in range(3):
            await asyncio.sleep(0)
        self.applied.append((project_id, document))
        self.running[project_id] -= 1


@pytest.mark.asyncio
async def test_the_config_watch_and_the_retries_never_apply_one_project_at_once():
    worker = Overlaps()
    worker.unsettled["p"] = {"version": 1}
    await asyncio.gather(worker.retry_unsettled(), worker.change("p", {"version": 2}),
                         worker.change("q", {"version": 1}))
    assert len(worker.applied) == 3
    assert worker.most == {"p": 1, "q": 1}
