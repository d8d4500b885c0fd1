"""JetStream operations on a project's resources: ensure/delete streams, put/remove its config document.

Async and free of Django, so the control plane (through natsbridge) and the data plane
workers (directly) share them.
"""

from __future__ import annotations

import json
import logging

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BadRequestError, BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.errors import NotFoundError as JsNotFoundError
from nats.js.kv import KeyValue

from projects.streams import StreamLimits, stream_configs

logger = logging.getLogger(__name__)

STREAM_NAME_IN_USE = 10058  # JetStream: stream name already in use with a different configuration


async def ensure_streams(js: JetStreamContext, project_id: object, limits: StreamLimits) -> None:
    """Create the project's streams, or bring an existing one's limits in line with settings."""
    for config in stream_configs(project_id, limits):
        try:
            await js.add_stream(config)
        except BadRequestError as exc:
            if exc.err_code != STREAM_NAME_IN_USE:
                raise
            await js.update_stream(config)


async def delete_streams(js: JetStreamContext, project_id: object, limits: StreamLimits) -> None:
    for config in stream_configs(project_id, limits):
        try:
            await js.delete_stream(config.name)
        except JsNotFoundError:
            pass


async def open_bucket(js: JetStreamContext, bucket: str, *, replicas: int, history: int = 1,
                      description: str = "") -> KeyValue:
    """Open a KV bucket, creating it on first use.

    Every process that uses a bucket may be the first to need it, so two can race to create
    it (possibly with different options): the loser opens what the winner made.
    """
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        pass
    try:
        return await js.create_key_value(KeyValueConfig(bucket=bucket, history=history, replicas=replicas,
                                                        storage=StorageType.FILE, description=description))
    except BadRequestError:
        return await js.key_value(bucket)


async def config_bucket(js: JetStreamContext, bucket: str, replicas: int) -> KeyValue:
    return await open_bucket(js, bucket, replicas=replicas, history=5, description="GlassFlow project configuration")


async def stats_bucket(js: JetStreamContext, bucket: str, replicas: int = 1) -> KeyValue:
    return await open_bucket(js, bucket, replicas=replicas, description="GlassFlow worker counters")


async def put_config_document(kv: KeyValue, document: dict) -> bool:
    """Store the document unless a newer version is already there; True if this one was written.

    Compare-and-set on the key's revision, so two publishers racing with different
    versions can never leave the older one in place.
    """
    key = str(document["projectId"])
    payload = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    for _ in range(10):
        try:
            entry = await kv.get(key)
        except KeyNotFoundError:
            entry = None
        if entry is not None:
            try:
                current = json.loads(entry.value or b"{}").get("version", 0)
            except ValueError:
                current = 0
            if current >= document["version"]:
                return False
        try:
            if entry is None:
                await kv.create(key, payload)
            else:
                await kv.update(key, payload, last=entry.revision)
            return True
        except KeyWrongLastSequenceError:
            continue  # someone else wrote in between; look again
    raise RuntimeError(f"could not publish the configuration of project {key}: too many concurrent writers")


async def get_config_document(kv: KeyValue, project_id: object) -> dict | None:
    """The document stored for the project, or None if there is none (or it is not JSON)."""
    try:
        entry = await kv.get(str(project_id))
    except KeyNotFoundError:
        return None
    try:
        document = json.loads(entry.value or b"null")
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


async def remove_config_document(kv: KeyValue, project_id: object) -> None:
    await kv.purge(str(project_id))
