"""The ``pipeline`` part of a project's config document, parsed into typed settings, and the one
place that says what every pipeline setting defaults to and which values it accepts.

The document comes from the KV bucket written by the control plane
(``projects.configdoc``); a field that is missing takes the default below, which is also the
model's field default and the API's and the editor's, and every problem is reported at once
in one ``ConfigError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from outbound.retry import RetryPolicy

SIGNALS = ("logs", "spans", "metrics")
OUTPUT_TYPES = ("string", "int", "int64", "float64", "bool")
DEFAULT_SIGNALS = ("logs",)
DEFAULT_OUTPUT_TYPE = "string"


@dataclass(frozen=True)
class NumberSetting:
    """A numeric pipeline setting: its default (None: unset, the feature is off) and the values it accepts."""

    default: int | None
    minimum: int
    maximum: int


# Read by pipelines.models (field defaults and validators), pipelines.api.serializers, the editor
# form and template, and parse_pipeline below. Keys are the model's field names.
PIPELINE_NUMBERS: dict[str, NumberSetting] = {
    "batch_size": NumberSetting(10, 1, 1000),
    "batch_max_wait_ms": NumberSetting(1000, 1, 60_000),
    "request_timeout_ms": NumberSetting(10_000, 100, 300_000),
    "retry_initial_backoff_ms": NumberSetting(500, 1, 600_000),
    "retry_max_backoff_ms": NumberSetting(30_000, 1, 3_600_000),
    # Upper bound of the adaptive concurrency (batches in flight to the agent per worker); 1 keeps order.
    "max_concurrency": NumberSetting(64, 1, 10_000),
    # Optional cost guards: over them records wait in the stream (nothing is dropped).
    "max_batches_per_minute": NumberSetting(None, 1, 1_000_000),
    "max_records_per_day": NumberSetting(None, 1, 10**12),
    # Set, a batch failing transiently for this many minutes goes to the dead letters (None = never).
    "dead_letter_after_minutes": NumberSetting(None, 1, 7 * 24 * 60),
}


def default(name: str) -> int:
    """The default of a numeric pipeline setting that has one (``PIPELINE_NUMBERS[name].default``)."""
    value = PIPELINE_NUMBERS[name].default
    if value is None:
        raise ValueError(f"the pipeline setting {name} has no default (unset means off)")
    return value


DEFAULT_RETRY = RetryPolicy(initial_backoff=default("retry_initial_backoff_ms") / 1000,
                            max_backoff=default("retry_max_backoff_ms") / 1000)


class ConfigError(ValueError):
    """The pipeline configuration cannot run; the message says what to fix."""


@dataclass(frozen=True)
class TransformSpec:
    expression: str
    output_name: str
    output_type: str = DEFAULT_OUTPUT_TYPE


@dataclass(frozen=True)
class PipelineConfig:
    project_id: str
    version: int = 0
    enabled: bool = False
    filter: str = ""
    transforms: tuple[TransformSpec, ...] = ()
    agent_endpoint: str = ""
    agent_headers: dict[str, str] = field(default_factory=dict)
    batch_size: int = default("batch_size")
    batch_max_wait_ms: int = default("batch_max_wait_ms")
    signals: tuple[str, ...] = DEFAULT_SIGNALS
    request_timeout_ms: int = default("request_timeout_ms")
    retry: RetryPolicy = DEFAULT_RETRY
    max_concurrency: int = default("max_concurrency")
    max_batches_per_minute: int | None = None
    max_records_per_day: int | None = None

    @property
    def active(self) -> bool:
        """A consumer runs only for an enabled pipeline that has somewhere to send records."""
        return self.enabled and bool(self.agent_endpoint)


def _int(section: dict, key: str, fallback: int, problems: list[str], minimum: int = 1) -> int:
    value = section.get(key, fallback)
    if value is None:
        return fallback
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        problems.append(f"{key} must be an integer of at least {minimum}, not {value!r}")
        return fallback
    return value


def _number(section: dict, key: str, name: str, problems: list[str]) -> int:
    """``section[key]``, the document's spelling of the setting ``name`` of ``PIPELINE_NUMBERS``."""
    return _int(section, key, default(name), problems, minimum=PIPELINE_NUMBERS[name].minimum)


def _optional_int(section: dict, key: str, problems: list[str]) -> int | None:
    value = section.get(key)
    if value is None:
        return None
    return _int(section, key, 1, problems)


def parse_pipeline(document: dict[str, Any]) -> PipelineConfig:
    """Read the pipeline settings of one config document; raise ConfigError listing every problem."""
    if not isinstance(document, dict) or not document.get("projectId"):
        raise ConfigError("the configuration document has no projectId")
    project_id = str(document["projectId"])
    section = document.get("pipeline") or {}
    problems: list[str] = []
    if not isinstance(section, dict):
        raise ConfigError("the pipeline section of the configuration document is not an object")

    transforms = []
    raw_transforms = section.get("transforms") or []
    if not isinstance(raw_transforms, list):
        problems.append("transforms must be a list")
        raw_transforms = []
    for index, row in enumerate(raw_transforms, start=1):
        if not isinstance(row, dict) or not isinstance(row.get("expression"), str) \
                or not isinstance(row.get("output_name"), str) or not row["output_name"]:
            problems.append(f"transform {index} needs an expression and an output_name")
            continue
        output_type = row.get("output_type") or DEFAULT_OUTPUT_TYPE
        if output_type not in OUTPUT_TYPES:
            problems.append(f"transform {index}: unknown output_type {output_type!r}; use one of "
                            f"{', '.join(OUTPUT_TYPES)}")
            continue
        transforms.append(TransformSpec(row["expression"], row["output_name"], output_type))

    headers = section.get("agentHeaders") or {}
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                for k, v in headers.items()):
        problems.append("agentHeaders must be an object of header name to string value")
        headers = {}

    signals = section.get("signals") or list(DEFAULT_SIGNALS)
    if not isinstance(signals, list) or any(signal not in SIGNALS for signal in signals):
        problems.append(f"signals must be a list drawn from {', '.join(SIGNALS)}, not {signals!r}")
        signals = list(DEFAULT_SIGNALS)

    retry_section = section.get("retry") or {}
    if not isinstance(retry_section, dict):
        problems.append("retry must be an object")
        retry_section = {}
    # Transient failures are retried while the stream holds the records, unless the pipeline
    # opted in to dead-lettering after a while (deadLetterAfterSeconds; null = never).
    dead_letter_after = _optional_int(section, "deadLetterAfterSeconds", problems)
    retry = RetryPolicy(
        initial_backoff=_number(retry_section, "initialBackoffMs", "retry_initial_backoff_ms", problems) / 1000,
        max_backoff=_number(retry_section, "maxBackoffMs", "retry_max_backoff_ms", problems) / 1000,
        dead_letter_after=float(dead_letter_after) if dead_letter_after is not None else None,
    )
    endpoint = section.get("agentEndpoint") or ""
    if not isinstance(endpoint, str):
        problems.append("agentEndpoint must be a URL string")
        endpoint = ""
    filter_source = section.get("filter") or ""
    if not isinstance(filter_source, str):
        problems.append("filter must be a string")
        filter_source = ""
    config = PipelineConfig(
        project_id=project_id,
        version=document.get("version") if isinstance(document.get("version"), int) else 0,
        enabled=section.get("enabled") is True,
        filter=filter_source.strip(),
        transforms=tuple(transforms),
        agent_endpoint=endpoint.strip(),
        agent_headers=dict(headers),
        batch_size=_number(section, "batchSize", "batch_size", problems),
        batch_max_wait_ms=_number(section, "batchMaxWaitMs", "batch_max_wait_ms", problems),
        signals=tuple(signal for signal in SIGNALS if signal in signals),
        request_timeout_ms=_number(section, "requestTimeoutMs", "request_timeout_ms", problems),
        retry=retry,
        max_concurrency=_number(section, "maxConcurrency", "max_concurrency", problems),
        max_batches_per_minute=_optional_int(section, "maxBatchesPerMinute", problems),
        max_records_per_day=_optional_int(section, "maxRecordsPerDay", problems),
    )
    if problems:
        raise ConfigError(f"pipeline configuration of project {project_id} (version {config.version}) "
                          f"is invalid: {'; '.join(problems)}")
    return config
