"""Keep the key index in step with the ``gf-ai-config`` KV bucket through a watch.

A watch (nats-py ``kv.watchall()``, an ordered push consumer) first delivers the latest
document of every project, then a ``None`` marker, then every change as it happens; a
revoked key therefore stops working as soon as its project's new document arrives (well
under a second). The first pass is collected into a snapshot and swapped in whole at the
marker, so projects deleted while we were not watching disappear too.

After a reconnect the watch is started afresh: the server may have restarted and lost the
ephemeral consumer, and nats-py's ordered consumer only notices that after two missed
heartbeats (10 s). Until the fresh snapshot is complete the previous index stays in force.
"""

from __future__ import annotations

import asyncio
import logging
import time

import nats.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from projects.natsops import config_bucket

from .keyindex import KeyIndex, ProjectKey, keys_of_document

logger = logging.getLogger(__name__)

_REMOVALS = ("DEL", "PURGE")
_POLL_SECONDS = 0.25  # how often the loop looks at the stop/restart flags while idle
_RETRY_SECONDS = 1.0
_UNKNOWN = object()


class ConfigWatcher:
    def __init__(self, nc: Client, bucket: str, replicas: int, index: KeyIndex,
                 check_interval: float = 30.0) -> None:
        self._nc = nc
        self._check_interval = check_interval
        self._bucket = bucket
        self._replicas = replicas
        self._index = index
        self._restart = asyncio.Event()

    def restart(self) -> None:
        """Ask the running watch to start over (called after NATS reconnects)."""
        self._restart.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._watch(stop)
            except Exception as exc:
                logger.warning("watching the %s bucket failed (%s); trying again", self._bucket, exc)
                try:
                    await asyncio.wait_for(stop.wait(), _RETRY_SECONDS)
                except TimeoutError:
                    pass

    async def _watch(self, stop: asyncio.Event) -> None:
        self._restart.clear()
        js = self._nc.jetstream()
        kv = await config_bucket(js, self._bucket, self._replicas)
        created = await self._bucket_created(js)
        next_check = time.monotonic() + self._check_interval
        watcher = await kv.watchall()
        snapshot: dict[str, list[ProjectKey]] = {}
        caught_up = False
        try:
            while not stop.is_set() and not self._restart.is_set():
                try:
                    entry = await watcher.updates(timeout=_POLL_SECONDS)
                except nats.errors.TimeoutError:
                    if time.monotonic() >= next_check:
                        next_check = time.monotonic() + self._check_interval
                        current = await self._bucket_created(js)
                        if current is not _UNKNOWN and current != created:
                            logger.warning("the %s bucket was deleted or recreated; reloading it", self._bucket)
                            return
                    continue
                if entry is None:
                    if not caught_up:
                        self._index.replace_all(snapshot)
                        caught_up = True
                        logger.info("project configuration loaded: %d projects with active keys",
                                    self._index.project_count)
                    continue
                if not hasattr(entry, "key"):
                    return  # the watcher's stop sentinel
                keys = [] if entry.operation in _REMOVALS else keys_of_document(entry.key, entry.value)
                if caught_up:
                    self._index.set_project(entry.key, keys)
                    logger.info("configuration of project %s changed: %d active keys", entry.key, len(keys))
                elif keys:
                    snapshot[entry.key] = keys
                else:
                    snapshot.pop(entry.key, None)
        finally:
            try:
                await watcher.stop()
            except Exception as exc:  # the connection may be gone; the consumer then expires by itself
                logger.debug("stopping the config watch failed: %s", exc)

    async def _bucket_created(self, js: JetStreamContext) -> object:
        """When the bucket's stream was created: a change means it was wiped and made again, and
        the ordered consumer (which resumes by sequence number) would silently skip documents."""
        try:
            return (await js.stream_info(f"KV_{self._bucket}")).created
        except NotFoundError:
            return None
        except Exception:  # a timeout while NATS is busy says nothing about the bucket
            return _UNKNOWN
