"""Names and configuration of each project's JetStream streams (architecture section 3).

Pure and shared by the control plane and the data plane workers, so that every
process agrees on names, subjects and limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

SIGNAL_SUBJECT = {"logs": "in", "spans": "spans", "metrics": "metrics"}
DLQ_STAGES = ("pipeline", "sink")


def raw_stream(project_id: object) -> str:
    return f"gf-ai-raw-{project_id}"


def raw_subject(project_id: object, signal: str) -> str:
    return f"gf-ai-raw.{project_id}.{SIGNAL_SUBJECT[signal]}"


def output_stream(project_id: object) -> str:
    return f"gf-ai-output-{project_id}"


def output_subject(project_id: object) -> str:
    return f"gf-ai-output.{project_id}.out"


def runs_stream(project_id: object) -> str:
    return f"gf-ai-runs-{project_id}"


def runs_subject(project_id: object, run: str = "*") -> str:
    """Subject of one run's events (``runs.recorder.run_token`` turns a request id into the token)."""
    return f"gf-ai-runs.{project_id}.{run}"


def dlq_stream(project_id: object) -> str:
    return f"gf-ai-dlq-{project_id}"


def dlq_subject(project_id: object, stage: str) -> str:
    if stage not in DLQ_STAGES:
        raise ValueError(f"unknown DLQ stage {stage!r}")
    return f"gf-ai-dlq.{project_id}.{stage}"


@dataclass(frozen=True)
class StreamLimits:
    max_age_seconds: int = 7 * 86400
    max_bytes: int = 1024**3
    replicas: int = 1
    duplicate_window_seconds: int = 120
    # Run history is a diagnostic record, not data in transit: its own, smaller limits, and the
    # oldest runs make room for new ones instead of pushing back on the pipeline.
    runs_max_age_seconds: int = 86400
    runs_max_bytes: int = 0  # 0: a quarter of max_bytes (JetStream reserves max_bytes per stream)
    # Outputs and dead letters may be sized apart from raw records; 0 means max_bytes.
    output_max_bytes: int = 0
    dlq_max_bytes: int = 0

    def per_stream_bytes(self) -> dict[str, int]:
        """max_bytes of each of a project's streams, by kind (what JetStream reserves for them)."""
        return {"raw": self.max_bytes, "output": self.output_max_bytes or self.max_bytes,
                "dlq": self.dlq_max_bytes or self.max_bytes,
                "runs": self.runs_max_bytes or max(1024**2, self.max_bytes // 4)}

    def per_project_bytes(self) -> int:
        """The most storage one project can take: the sum of its streams' max_bytes (docs/security.md)."""
        return sum(self.per_stream_bytes().values())


def stream_configs(project_id: object, limits: StreamLimits) -> list[StreamConfig]:
    """The streams of a project: raw records, agent outputs, dead letters, run history."""
    common = {
        "retention": RetentionPolicy.LIMITS,
        "storage": StorageType.FILE,
        "discard": DiscardPolicy.NEW,
        "max_age": float(limits.max_age_seconds),
        "max_bytes": limits.max_bytes,
        "num_replicas": limits.replicas,
        "duplicate_window": float(limits.duplicate_window_seconds),
    }
    sizes = limits.per_stream_bytes()
    return [
        StreamConfig(name=raw_stream(project_id),
                     subjects=[raw_subject(project_id, signal) for signal in SIGNAL_SUBJECT], **common),
        StreamConfig(name=output_stream(project_id), subjects=[output_subject(project_id)],
                     **{**common, "max_bytes": sizes["output"]}),
        StreamConfig(name=dlq_stream(project_id),
                     subjects=[dlq_subject(project_id, stage) for stage in DLQ_STAGES],
                     **{**common, "max_bytes": sizes["dlq"]}),
        StreamConfig(name=runs_stream(project_id), subjects=[runs_subject(project_id, ">")],
                     **{**common, "discard": DiscardPolicy.OLD, "max_age": float(limits.runs_max_age_seconds),
                        "max_bytes": sizes["runs"]}),
    ]
