"""The pipeline worker (``manage.py runpipeline``): raw records in, batches to agents out.

``PipelineWorker`` follows the config bucket and runs one ``PipelineRunner`` per project whose
pipeline is enabled; the stages themselves are pure code in ``pipelines.stages``.
"""

from __future__ import annotations

from pipelines.worker.protocol import CONSUMER_NAME, consumer_config
from pipelines.worker.runner import PipelineRunner
from pipelines.worker.worker import PipelineWorker, PipelineWorkerSettings

__all__ = ["CONSUMER_NAME", "PipelineRunner", "PipelineWorker", "PipelineWorkerSettings", "consumer_config"]
