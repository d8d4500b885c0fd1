"""Pure stages of the pipeline worker: config parsing, filter, transforms, batching, retry policy.

No Django, no I/O: the worker in ``pipelines.worker`` is a thin shell that decodes
messages, runs them through these functions, and does the network work around them.
"""

from __future__ import annotations

from pipelines.stages.batching import Batcher
from pipelines.stages.config import ConfigError, PipelineConfig, RetryPolicy, TransformSpec, parse_pipeline
from pipelines.stages.convert import ConversionError, convert
from pipelines.stages.records import CompiledPipeline, RecordOutcome, compile_pipeline

__all__ = ["Batcher", "CompiledPipeline", "ConfigError", "ConversionError", "PipelineConfig", "RecordOutcome",
           "RetryPolicy", "TransformSpec", "compile_pipeline", "convert", "parse_pipeline"]
