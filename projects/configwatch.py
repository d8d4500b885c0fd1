"""One watch of the ``gf-ai-config`` KV bucket, shared by the receiver and both workers.

The control plane publishes one JSON document per project (key = project id) and purges the
key when the project is deleted. A watch (nats-py ``kv.watchall()``, an ordered push consumer)
first delivers the latest document of every project, then a ``None`` marker, then every change
as it happens. ``ConfigWatch`` turns that into two calls on its listener:

- ``snapshot(documents, gone)``: the complete set ``{project_id: document}`` once the first pass
  is done (at start, and again after every restart of the watch), with the projects this watch
  delivered before that are no longer there, so a listener can swap in its state whole and
  forget projects deleted while nobody was watching;
- ``change(project_id, document)``: one project's document after the snapshot; ``None`` when
  the project was deleted (DEL/PURGE, or an empty document).

A document that is not JSON arrives as an ``UnreadableDocument``; each listener decides what
that means for it. The watch is started afresh when ``restart()`` is called (the receiver does
so after NATS reconnects: the server may have lost the ephemeral consumer, and nats-py's ordered
consumer only notices after two missed heartbeats) and when the bucket was deleted and made
again underneath it (checked every ``check_interval`` seconds while idle: the ordered consumer
resumes by sequence number and would silently skip documents). Until a fresh snapshot is
complete the listener's previous state stays in force. The snapshot after a wiped bucket names
no project as gone: an empty bucket only means the control plane has not republished yet.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import nats.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from projects.natsops import config_bucket

logger = logging.getLogger(__name__)

REMOVALS = (KV_DEL, KV_PURGE)
POLL_SECONDS = 0.25  # how often ``run`` looks at the stop/restart flags while idle
RETRY_SECONDS = 1.0
_UNKNOWN = object()


def configured_bucket() -> str:
    """The bucket's name: only ever from Django settings (CONFIG_BUCKET)."""
    from django.conf import settings

    return settings.CONFIG_BUCKET


@dataclass(frozen=True)
class UnreadableDocument:
    """What the bucket holds for a project when it is not JSON."""

    error: str


def document_version(document: Any) -> int:
    """The version a document carries (0 when it has none): newer documents have higher versions."""
    version = document.get("version", 0) if isinstance(document, dict) else 0
    return version if isinstance(version, int) else 0


class ConfigListener(Protocol):
    async def snapshot(self, documents: dict[str, Any], gone: set[str]) -> None: ...

    async def change(self, project_id: str, document: Any) -> None: ...


async def apply_snapshot(apply: Callable[[str, Any], Awaitable[None]], documents: dict[str, Any],
                         gone: Iterable[str]) -> None:
    """Apply every document of a snapshot one by one, then ``None`` for each project that is gone."""
    for project_id, document in documents.items():
        await apply(project_id, document)
    for project_id in sorted(gone):
        await apply(project_id, None)


def _document_of(entry: KeyValue.Entry) -> Any:
    if entry.operation in REMOVALS or not entry.value:
        return None
    try:
        return json.loads(entry.value)
    except ValueError as exc:
        return UnreadableDocument(str(exc))


class ConfigWatch:
    def __init__(self, nc: Client, listener: ConfigListener, *, bucket: str, replicas: int = 1,
                 check_interval: float = 30.0) -> None:
        self.bucket = bucket
        self._nc = nc
        self._listener = listener
        self._replicas = replicas
        self._check_interval = check_interval
        self._restart = asyncio.Event()
        self._kv: KeyValue | None = None
        self._watcher: KeyValue.KeyWatcher | None = None
        self._snapshot: dict[str, Any] | None = None  # collected until the first pass is done
        self._known: set[str] = set()  # the projects delivered to the listener and not removed since
        self._trust_absence = True  # False after a bucket replacement: absence then means "not yet republished"
        self._created: object = _UNKNOWN
        self._next_check = 0.0

    @property
    def opened(self) -> bool:
        return self._watcher is not None

    @property
    def caught_up(self) -> bool:
        return self._watcher is not None and self._snapshot is None

    def restart(self) -> None:
        """Ask the watch to start over (after NATS reconnects)."""
        self._restart.set()

    async def open(self) -> None:
        """Open (creating it if needed) the bucket and start a fresh watch."""
        await self.close()
        self._restart.clear()
        js = self._nc.jetstream()
        self._kv = await config_bucket(js, self.bucket, self._replicas)
        self._created = await self._bucket_created(js)
        self._next_check = time.monotonic() + self._check_interval
        self._snapshot = {}
        self._watcher = await self._kv.watchall()

    async def close(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            try:
                await watcher.stop()
            except Exception as exc:  # noqa: BLE001 -- the connection may be gone; the consumer then expires
                logger.debug("stopping the watch of %s failed: %s", self.bucket, exc)

    async def poll(self, timeout: float) -> bool:
        """Hand every change that has arrived to the listener, until none comes for ``timeout``
        seconds; True if there was any. Reopens the watch when asked to or when it ended."""
        if self._watcher is None:
            await self.open()
        found = False
        while True:
            if self._restart.is_set():
                await self.open()
            try:
                entry = await self._watcher.updates(timeout=timeout)
            except nats.errors.TimeoutError:
                if await self._bucket_replaced():
                    logger.warning("the %s bucket was deleted or recreated; reloading it", self.bucket)
                    # A wiped bucket says nothing about which projects exist: until the control plane
                    # republishes, it is empty. Reporting every project as gone would make the sink
                    # workers delete their durable consumers (and lose what arrives meanwhile), so the
                    # next snapshot names no project as gone; deletions still arrive as changes.
                    self._trust_absence = False
                    await self.open()
                    continue
                return found
            if entry is None:
                if self._snapshot is not None:
                    documents, self._snapshot = self._snapshot, None
                    gone = self._known - set(documents) if self._trust_absence else set()
                    await self._listener.snapshot(documents, gone)
                    # Only once the listener has taken the snapshot: if it failed, the projects that are
                    # gone are reported again by the next one.
                    self._known = set(documents) if self._trust_absence else self._known | set(documents)
                    self._trust_absence = True
                continue
            if not hasattr(entry, "key"):  # the watcher's stop sentinel
                await self.close()
                return found
            found = True
            document = _document_of(entry)
            if self._snapshot is None:
                if document is None:
                    self._known.discard(entry.key)
                else:
                    self._known.add(entry.key)
                await self._listener.change(entry.key, document)
            elif document is None:
                self._snapshot.pop(entry.key, None)
            else:
                self._snapshot[entry.key] = document

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the bucket until ``stop`` is set; a failed watch is started again after a second."""
        try:
            while not stop.is_set():
                try:
                    await self.poll(POLL_SECONDS)
                except Exception as exc:  # noqa: BLE001 -- NATS trouble: the next attempt reloads everything
                    logger.warning("watching the %s bucket failed (%s); trying again", self.bucket, exc)
                    await self.close()
                    try:
                        await asyncio.wait_for(stop.wait(), RETRY_SECONDS)
                    except TimeoutError:
                        pass
        finally:
            await self.close()

    async def is_latest(self, project_id: str, document: dict) -> bool:
        """Whether no newer document than this one is stored for the project (False when unsure)."""
        if self._kv is None:
            return True
        try:
            entry = await self._kv.get(project_id)
            latest = document_version(json.loads(entry.value or b"{}"))
        except (nats.errors.Error, ValueError):
            return False
        return latest <= document_version(document)

    async def _bucket_replaced(self) -> bool:
        if time.monotonic() < self._next_check:
            return False
        self._next_check = time.monotonic() + self._check_interval
        current = await self._bucket_created(self._nc.jetstream())
        return current is not _UNKNOWN and current != self._created

    async def _bucket_created(self, js: JetStreamContext) -> object:
        """When the bucket's stream was created: a change means it was wiped and made again."""
        try:
            return (await js.stream_info(f"KV_{self.bucket}")).created
        except NotFoundError:
            return None
        except Exception:  # noqa: BLE001 -- a timeout while NATS is busy says nothing about the bucket
            return _UNKNOWN
