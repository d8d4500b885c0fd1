"""The receiver's configuration: read once from Django settings at start, then plain data.

The receiver never imports Django beyond reading settings, so the request path has no
Django machinery in it and the process works without a database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from projects.configwatch import configured_bucket

DEFAULT_KEYUSE_BUCKET = "gf-ai-keyuse"  # the name projects/key_last_used.py reads
GRPC_LISTEN_ENV = "GLASSFLOW_RECEIVER_GRPC"
WORKERS_ENV = "GLASSFLOW_RECEIVER_WORKERS"
GRACE_ENV = "GLASSFLOW_RECEIVER_GRACE"


@dataclass(frozen=True)
class ReceiverConfig:
    """Everything the receiver needs; defaults match the documented production defaults.

    ``publish_timeout`` bounds the wait for JetStream's acknowledgements of one request
    (nats-py never fails an in-flight publish when the connection drops, so an unbounded
    wait could hang a request forever). ``config_check_interval`` is how often the config
    watch checks that its bucket was not wiped and recreated underneath it.
    ``retry_after_full`` / ``retry_after_unavailable`` are the Retry-After seconds sent with
    429 (stream full) and 503 (NATS unreachable or slow).
    """

    nats_servers: list[str] = field(default_factory=lambda: ["nats://127.0.0.1:4222"])
    connect_timeout: float = 2.0
    reconnect_wait: float = 0.5
    config_bucket: str = field(default_factory=configured_bucket)
    config_check_interval: float = 30.0
    keyuse_bucket: str = DEFAULT_KEYUSE_BUCKET
    keyuse_interval: float = 60.0
    replicas: int = 1
    max_body_bytes: int = 8 * 1024**2
    publish_timeout: float = 5.0
    retry_after_full: int = 5
    retry_after_unavailable: int = 2
    # OTLP/gRPC listen address ("host:port"); None serves HTTP only. ``grpc_reuse_port`` lets
    # the worker processes of ``runreceiver --workers N`` each bind the same port (SO_REUSEPORT).
    grpc_listen: str | None = None
    grpc_reuse_port: bool = False
    grpc_graceful_seconds: float = 20.0

    def __post_init__(self) -> None:
        problems = []
        if not self.nats_servers:
            problems.append("NATS_URL lists no server")
        if self.max_body_bytes < 1024:
            problems.append("RECEIVER_MAX_BODY_BYTES must be at least 1 KiB")
        if self.publish_timeout <= 0:
            problems.append("RECEIVER_PUBLISH_TIMEOUT must be positive")
        if problems:
            raise ValueError("invalid receiver configuration: " + "; ".join(problems))

    @classmethod
    def from_settings(cls) -> ReceiverConfig:
        """Build from Django settings; optional receiver settings fall back to the defaults above.

        The gRPC address comes from ``runreceiver`` through the environment (``GLASSFLOW_RECEIVER_GRPC``,
        ``GLASSFLOW_RECEIVER_WORKERS``, ``GLASSFLOW_RECEIVER_GRACE``), because uvicorn's worker
        processes build their app from a factory that takes no arguments.
        """
        from django.conf import settings

        environ = os.environ
        return cls(
            grpc_listen=environ.get(GRPC_LISTEN_ENV) or None,
            grpc_reuse_port=int(environ.get(WORKERS_ENV, "1")) > 1,
            grpc_graceful_seconds=float(environ.get(GRACE_ENV, "20")),
            nats_servers=list(settings.NATS_SERVERS),
            connect_timeout=float(settings.NATS_CONNECT_TIMEOUT),
            config_bucket=settings.CONFIG_BUCKET,
            replicas=settings.STREAM_REPLICAS,
            max_body_bytes=settings.RECEIVER_MAX_BODY_BYTES,
            publish_timeout=float(settings.RECEIVER_PUBLISH_TIMEOUT),
        )
