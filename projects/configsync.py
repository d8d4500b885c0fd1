"""Keeping NATS in step with the database: streams per project and the config document in KV.

Every change calls ``config_changed(project)`` inside its transaction: that bumps the
project's ``config_version`` and, after commit, publishes the document built from the
database at that moment. If NATS is unreachable the change still commits; the gap
``config_version > config_published_version`` (or a ProjectTombstone for deletions)
is the outbox that ``sync_pending`` drains, from a reconciler thread in every web
process and from ``manage.py publishconfig``. Publishing is idempotent and guarded by
version, so repeats and races cannot put an older document over a newer one.
"""

from __future__ import annotations

import json
import logging
import threading
from uuid import UUID

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F
from django.utils import timezone

from projects import natsops
from projects.configdoc import build_config_document
from projects.models import Project, ProjectTombstone
from projects.natsbridge import NatsUnavailable, bridge
from projects.streams import StreamLimits

logger = logging.getLogger(__name__)


def stream_limits() -> StreamLimits:
    return StreamLimits(max_age_seconds=settings.STREAM_MAX_AGE_SECONDS, max_bytes=settings.STREAM_MAX_BYTES,
                        replicas=settings.STREAM_REPLICAS,
                        duplicate_window_seconds=settings.STREAM_DUPLICATE_WINDOW_SECONDS,
                        runs_max_age_seconds=settings.RUN_HISTORY_MAX_AGE_SECONDS,
                        runs_max_bytes=settings.RUN_HISTORY_MAX_BYTES,
                        output_max_bytes=settings.STREAM_OUTPUT_MAX_BYTES, dlq_max_bytes=settings.STREAM_DLQ_MAX_BYTES)


def config_changed(project: Project) -> None:
    """Record a change to the project's keys, pipeline or sinks; publish once the transaction commits."""
    project.bump_config_version()
    project_id = project.pk
    transaction.on_commit(lambda: sync_project(project_id))


def project_deleted(project_id: UUID) -> None:
    """Record that a project's NATS resources must go; call inside the deleting transaction."""
    ProjectTombstone.objects.get_or_create(project_id=project_id)
    transaction.on_commit(lambda: remove_project(project_id))


def sync_project(project_id: UUID) -> bool:
    """Ensure the project's streams and publish its document; False if NATS was unavailable.

    A publish refused because the bucket holds a version at least as new is resolved, never
    dropped: either that document says the same (a racing publisher got there first) or the
    database is behind the bucket (restored from a backup). Then the database wins: its
    version is moved past the bucket's, so workers (which ignore older versions) apply it.
    """
    limits = stream_limits()
    for attempt in range(4):
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            return True
        document = build_config_document(project)

        async def publish(js, document=document) -> tuple[bool, dict | None]:
            await natsops.ensure_streams(js, project_id, limits)
            kv = await natsops.config_bucket(js, settings.CONFIG_BUCKET, settings.STREAM_REPLICAS)
            if await natsops.put_config_document(kv, document):
                return True, None
            return False, await natsops.get_config_document(kv, project_id)

        try:
            written, current = bridge.call(publish)
        except NatsUnavailable as exc:
            logger.warning("configuration of project %s not published yet (%s); will retry", project_id, exc)
            return False
        if written or current is None or _same_settings(current, document):
            return _mark_published(project_id, document["version"])
        if attempt == 0 and current.get("version", 0) > document["version"]:
            continue  # a newer change may have been committed and published meanwhile: look again
        ahead = int(current.get("version", 0))
        logger.warning("configuration of project %s in the bucket (version %d) is ahead of the database "
                       "(version %d) and differs from it; the database was probably restored. Publishing the "
                       "database's configuration as version %d", project_id, ahead, document["version"], ahead + 1)
        Project.objects.filter(pk=project_id, config_version__lte=ahead).update(config_version=ahead + 1)
    raise RuntimeError(f"could not publish the configuration of project {project_id}: "
                       "the bucket kept moving ahead of the database")


def _same_settings(stored: dict, document: dict) -> bool:
    def settings_of(doc: dict) -> dict:
        return {key: value for key, value in doc.items() if key not in ("generatedAt", "version")}

    return settings_of(stored) == json.loads(json.dumps(settings_of(document)))


def _mark_published(project_id: UUID, version: int) -> bool:
    updated = Project.objects.filter(pk=project_id, config_published_version__lt=version).update(
        config_published_version=version, config_published_at=timezone.now())
    if not updated and not Project.objects.filter(pk=project_id).exists():
        # Deleted while we published: its removal may have run before our publish re-created the
        # streams and the document, so remove them again rather than leave a live ghost.
        return remove_project(project_id)
    return True


def remove_project(project_id: UUID) -> bool:
    """Delete the project's streams and config document; False if NATS was unavailable."""
    limits = stream_limits()

    async def remove(js) -> None:
        await natsops.delete_streams(js, project_id, limits)
        kv = await natsops.config_bucket(js, settings.CONFIG_BUCKET, settings.STREAM_REPLICAS)
        await natsops.remove_config_document(kv, project_id)

    try:
        bridge.call(remove)
    except NatsUnavailable as exc:
        logger.warning("NATS resources of deleted project %s not removed yet (%s); will retry", project_id, exc)
        return False
    ProjectTombstone.objects.filter(project_id=project_id).delete()
    return True


def sync_pending() -> int:
    """Publish every unpublished change and finish every pending deletion; return how many are left."""
    left = 0
    for project_id in Project.objects.filter(config_published_version__lt=F("config_version")).values_list(
            "pk", flat=True):
        left += not sync_project(project_id)
    for project_id in ProjectTombstone.objects.values_list("project_id", flat=True):
        left += not remove_project(project_id)
    return left


def sync_all() -> int:
    """Re-publish every project's document (for example into a wiped bucket); return the failures."""
    failures = 0
    for project_id in Project.objects.values_list("pk", flat=True):
        Project.objects.filter(pk=project_id).update(config_version=F("config_version") + 1)
        failures += not sync_project(project_id)
    for project_id in ProjectTombstone.objects.values_list("project_id", flat=True):
        failures += not remove_project(project_id)
    return failures


_reconciler_started = threading.Lock()
_reconciler_thread: threading.Thread | None = None


def _reconcile_forever(stop: threading.Event) -> None:
    while not stop.wait(settings.CONFIG_RECONCILE_INTERVAL):
        try:
            sync_pending()
        except Exception:  # noqa: BLE001  the loop must survive a database hiccup; the next round retries
            logger.exception("configuration reconciler failed; retrying in %ss", settings.CONFIG_RECONCILE_INTERVAL)
        finally:
            close_old_connections()


def start_reconciler() -> threading.Event:
    """Start the background reconciler once per process; returns the event that stops it."""
    global _reconciler_thread
    stop = threading.Event()
    with _reconciler_started:
        if _reconciler_thread is None:
            _reconciler_thread = threading.Thread(target=_reconcile_forever, args=(stop,),
                                                  name="config-reconciler", daemon=True)
            _reconciler_thread.start()
    return stop
