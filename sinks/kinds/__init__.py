"""Registry of sink kinds. Adding a kind is one module in this package and one line below."""

from __future__ import annotations

from sinks.kinds.base import SinkKind
from sinks.kinds.slack import SlackKind
from sinks.kinds.webhook import WebhookKind

KINDS: dict[str, type[SinkKind]] = {kind.name: kind for kind in (WebhookKind, SlackKind)}


def get_kind(name: str) -> type[SinkKind]:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown sink kind {name!r}; use one of {', '.join(KINDS)}") from None
