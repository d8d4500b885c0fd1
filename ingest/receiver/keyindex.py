"""Which API key belongs to which project: an in-memory index built from the config documents.

The control plane publishes one document per project to the ``gf-ai-config`` KV bucket,
listing its active keys as ``{id, prefix, hash}`` (projects/configdoc.py). The receiver
keeps ``prefix -> keys`` in memory and never asks the database; the index listens to
projects/configwatch.py (``snapshot`` swaps in a complete first pass, ``change`` one project),
so a revoked key stops working as soon as its project's new document arrives. A presented key
is looked up by its public prefix and compared with the stored SHA-256 in constant time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from projects.apikeys import key_matches, key_prefix
from projects.configwatch import UnreadableDocument

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProjectKey:
    """One active API key of a project, as the config document lists it."""

    project_id: str
    key_id: object
    prefix: str
    hash: str


def keys_of_document(project_id: str, document: Any) -> list[ProjectKey]:
    """The active keys a config document lists; a malformed document (or none) grants nothing."""
    if document is None:
        return []
    try:
        if isinstance(document, UnreadableDocument):
            raise ValueError(document.error)
        if not isinstance(document, dict) or str(document.get("projectId")) != project_id:
            raise ValueError("projectId does not match the document's key")
        return [ProjectKey(project_id, item.get("id"), str(item["prefix"]), str(item["hash"]))
                for item in document.get("apiKeys") or []]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # Fail closed: a document we cannot read must not keep old keys working.
        logger.warning("ignoring the keys of project %s: unreadable config document (%s)", project_id, exc)
        return []


class KeyIndex:
    """prefix -> keys, replaced per project as documents change. Not thread-safe: one event loop."""

    def __init__(self) -> None:
        self._by_prefix: dict[str, tuple[ProjectKey, ...]] = {}
        self._by_project: dict[str, list[ProjectKey]] = {}
        self.loaded = False

    @property
    def project_count(self) -> int:
        return len(self._by_project)

    def set_project(self, project_id: str, keys: list[ProjectKey]) -> None:
        self.remove_project(project_id)
        if not keys:
            return
        self._by_project[project_id] = keys
        for key in keys:
            self._by_prefix[key.prefix] = (*self._by_prefix.get(key.prefix, ()), key)

    def remove_project(self, project_id: str) -> None:
        for key in self._by_project.pop(project_id, ()):
            remaining = tuple(k for k in self._by_prefix.get(key.prefix, ()) if k.project_id != project_id)
            if remaining:
                self._by_prefix[key.prefix] = remaining
            else:
                self._by_prefix.pop(key.prefix, None)

    def replace_all(self, projects: dict[str, list[ProjectKey]]) -> None:
        """Swap in a complete snapshot (after a fresh watch caught up) in one step."""
        self._by_prefix = {}
        self._by_project = {}
        for project_id, keys in projects.items():
            self.set_project(project_id, keys)
        self.loaded = True

    async def snapshot(self, documents: dict[str, Any], gone: set[str]) -> None:
        self.replace_all({project_id: keys for project_id, document in documents.items()
                          if (keys := keys_of_document(project_id, document))})
        logger.info("project configuration loaded: %d projects with active keys", self.project_count)

    async def change(self, project_id: str, document: Any) -> None:
        keys = keys_of_document(project_id, document)
        self.set_project(project_id, keys)
        logger.info("configuration of project %s changed: %d active keys", project_id, len(keys))

    def authenticate(self, secret: str) -> ProjectKey | None:
        """The key a presented secret belongs to, or None when it is unknown or revoked."""
        prefix = key_prefix(secret)
        if prefix is None:
            return None
        # Prefixes carry 32 random bits, so two projects may share one: check every candidate.
        found = None
        for candidate in self._by_prefix.get(prefix, ()):
            if key_matches(secret, candidate.hash):
                found = candidate
        return found


def presented_key(headers: dict[bytes, bytes]) -> str | None:
    """The key from ``X-API-Key``, else from ``Authorization: Bearer <key>`` (as OTel exporters send)."""
    value = headers.get(b"x-api-key")
    if value:
        return value.decode("latin-1").strip()
    authorization = headers.get(b"authorization")
    if authorization:
        scheme, _, token = authorization.decode("latin-1").strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None
