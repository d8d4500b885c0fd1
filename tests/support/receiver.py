"""Shared fixtures and helpers of the receiver tests (no tests here).

The receiver runs for real: ``ReceiverApp`` served by uvicorn in a background thread on a
free port, against the session's nats-server; projects and keys are made through the
control-plane API so the KV config document is the real one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import nats
import uvicorn
from django.conf import settings
from django.test import override_settings
from nats.js.errors import NotFoundError

from glassflow_site.natsserver import free_port
from ingest.receiver.app import ReceiverApp
from ingest.receiver.receiver_config import DEFAULT_KEYUSE_BUCKET, ReceiverConfig
from projects.natsops import config_bucket, delete_streams, remove_config_document
from projects.streams import StreamLimits
from tests.support.clients import client_for
from tests.support.deadline import wait_for
from tests.support.factories import UserFactory

VECTORS = Path(os.environ.get("OTLP_VECTORS_DIR",
                              Path(__file__).resolve().parents[2] / ".." / "shared" / "otlp-vectors"))


def load_vectors() -> list[dict]:
    if not (VECTORS / "manifest.json").exists():
        raise FileNotFoundError(f"OTLP test vectors not found in {VECTORS}: set OTLP_VECTORS_DIR")
    vectors = []
    for capture in json.loads((VECTORS / "manifest.json").read_text())["captures"]:
        meta = json.loads((VECTORS / capture["metadata"]).read_text())
        meta["body"] = (VECTORS / meta["body_file"]).read_bytes()
        vectors.append(meta)
    return vectors


class ReceiverThread:
    """The real receiver app under uvicorn, in a thread with its own event loop."""

    def __init__(self, config: ReceiverConfig):
        self.app = ReceiverApp(config)
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, lifespan="on",
                                                   log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, name="receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReceiverThread:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=10, message="uvicorn started")
        wait_for(lambda: httpx.get(self.url + "/readyz").status_code == 200, timeout=15, message="receiver ready")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def receiver_config(nats_url: str, **overrides) -> ReceiverConfig:
    return ReceiverConfig(nats_servers=[nats_url], reconnect_wait=0.2, keyuse_interval=60.0, **overrides)


def running_receiver(nats_url: str, **overrides) -> Iterator[ReceiverThread]:
    """Body of each module's ``receiver`` fixture: ``yield from running_receiver(nats_server.url)``."""
    running = ReceiverThread(receiver_config(nats_url, **overrides)).start()
    try:
        yield running
    finally:
        running.stop()
        delete_created_projects(nats_url)


def delete_created_projects(nats_url: str) -> None:
    """Delete this module's projects' streams and documents, and the key-use bucket."""
    async def delete() -> None:
        nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=0)
        try:
            js = nc.jetstream()
            kv = await config_bucket(js, settings.CONFIG_BUCKET, 1)
            while CREATED:
                project_id = CREATED.pop()
                await delete_streams(js, project_id, StreamLimits())
                await remove_config_document(kv, project_id)
            # The receiver creates the key-use bucket; leave the shared server as other tests expect it.
            with contextlib.suppress(NotFoundError):
                await js.delete_key_value(DEFAULT_KEYUSE_BUCKET)
        finally:
            await nc.close()

    asyncio.run(delete())


@dataclass
class Project:
    id: str
    key: str
    key_id: int
    key_prefix: str
    client: object

    def new_key(self, name: str = "another") -> dict:
        response = self.client.post(f"/api/v1/projects/{self.id}/keys/", {"name": name}, format="json")
        assert response.status_code == 201, response.content
        return response.json()

    def revoke(self, key_id: int) -> None:
        response = self.client.post(f"/api/v1/projects/{self.id}/keys/{key_id}/revoke/")
        assert response.status_code in (200, 204), response.content


# Projects made by the current module; their streams are deleted when its receiver stops, because
# the database is flushed after each test but JetStream keeps the streams (and their reservations).
CREATED: list[str] = []
TEST_STREAM_MAX_BYTES = 32 * 1024**2


def make_project(name: str = "svc") -> Project:
    """A project with one key, created through the control-plane API (streams + KV document)."""
    client = client_for(UserFactory())
    # Each stream reserves max_bytes of JetStream storage: keep test projects small.
    with override_settings(STREAM_MAX_BYTES=min(settings.STREAM_MAX_BYTES, TEST_STREAM_MAX_BYTES)):
        response = client.post("/api/v1/projects/", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    project_id = response.json()["id"]
    CREATED.append(project_id)
    key = client.post(f"/api/v1/projects/{project_id}/keys/", {"name": "collector"}, format="json").json()
    return Project(project_id, key["key"], key["id"], key["prefix"], client)


def post(receiver: ReceiverThread, path: str, body: bytes, key: str | None = None,
         content_type: str = "application/x-protobuf", **headers: str) -> httpx.Response:
    sent = {"Content-Type": content_type, **{k.replace("_", "-"): v for k, v in headers.items()}}
    if key is not None:
        sent["X-API-Key"] = key
    return httpx.post(receiver.url + path, content=body, headers=sent, timeout=30)


def wait_until_key_works(receiver: ReceiverThread, key: str) -> None:
    """The KV watch applies a new key within a second; wait for it instead of sleeping."""
    wait_for(lambda: post(receiver, "/v1/logs", b"", key).status_code == 200, timeout=5,
             message="the new key is accepted")


def stream_messages(nats_url: str, stream: str, subject: str | None = None) -> list[dict]:
    """Every message stored in a stream (optionally one subject), decoded as JSON with its headers."""

    async def read() -> list[dict]:
        nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=0)
        try:
            js = nc.jetstream()
            info = await js.stream_info(stream)
            out = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1) if info.state.messages else ():
                msg = await js.get_msg(stream, seq)
                if subject is None or msg.subject == subject:
                    out.append({"subject": msg.subject, "data": json.loads(msg.data),
                                "headers": dict(msg.headers or {})})
            return out
        finally:
            await nc.close()

    return asyncio.run(read())


def gzip_bomb(gib: int = 1) -> bytes:
    """A valid gzip file of ``gib`` GiB of zeros, about 1 MB long, built without compressing 1 GB.

    Deflate blocks ended by a full flush do not refer back to earlier data, so the blocks of
    one MiB of zeros can be repeated; the trailer carries the real CRC and size.
    """
    zeros = bytes(1 << 20)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflater.compress(zeros) + deflater.flush(zlib.Z_FULL_FLUSH)
    end = deflater.flush(zlib.Z_FINISH)
    crc = 0
    count = gib * 1024
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + block * count + end + struct.pack("<II", crc, (count << 20) & 0xFFFFFFFF)


def stream_count(nats_url: str, stream: str) -> int:
    async def count() -> int:
        nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=0)
        try:
            return (await nc.jetstream().stream_info(stream)).state.messages
        finally:
            await nc.close()

    return asyncio.run(count())


GRPC_LOGS = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


def call(target: str, method: str, body: bytes, metadata=(), compression=None):
    """One unary call with raw bytes; returns (response bytes, None) or (None, grpc.RpcError)."""
    with grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 * 1024**2)]) as channel:
        stub = channel.unary_unary(method)
        try:
            return stub(body, metadata=metadata, timeout=15, compression=compression), None
        except grpc.RpcError as error:
            return None, error


def wait_until_grpc_key_works(receiver, key: str) -> None:
    wait_for(lambda: call(receiver.grpc_target, GRPC_LOGS, b"", (("x-api-key", key),))[1] is None, timeout=5,
             message="the new key is accepted over gRPC")
