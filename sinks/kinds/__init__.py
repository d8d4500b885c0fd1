"""Registry of sink kinds. Adding a kind is one module in this package and one line in ``KIND_CLASSES``.

A kind module holds everything of its kind (sinks/kinds/base.py): its config fields, their
validation and masking, what the sink form shows, and how an output message becomes its
delivery. The API, the pages, the admin and the sink worker look kinds up here and know none
by name.
"""

from __future__ import annotations

from importlib import import_module

from sinks.kinds.base import SinkKind

KIND_CLASSES = (
    "sinks.kinds.webhook.WebhookKind",
    "sinks.kinds.slack.SlackKind",
    "sinks.kinds.chat.ChatWebhookKind",
)


def _load(path: str) -> type[SinkKind]:
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


KINDS: dict[str, type[SinkKind]] = {kind.name: kind for kind in map(_load, KIND_CLASSES)}


def get_kind(name: str) -> type[SinkKind]:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown sink kind {name!r}; use one of {', '.join(KINDS)}") from None
