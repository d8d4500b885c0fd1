"""Values shared by the OTLP record tests: fixed instants and a KeyValue builder."""

from __future__ import annotations

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

RECEIVED = 1_705_314_600_123_000_000  # 2024-01-15T10:30:00.123Z, the receive time passed to flatten
T0 = 1_705_314_600_000_000_000  # 2024-01-15T10:30:00Z


def kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)
