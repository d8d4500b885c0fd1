"""Browser form state of a sink: fields per kind, read from POST data into the API's document shape.

Validation is ``SinkSerializer``'s (per-kind ``clean_config``, masking and restoring of
secrets); this module only maps form fields to that document and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import QueryDict

from sinks.kinds import get_kind
from sinks.kinds.webhook import METHODS
from sinks.models import Sink

MAX_HEADERS = 50


@dataclass
class SinkFormState:
    kind: str
    name: str = ""
    enabled: bool = True
    url: str = ""  # webhook URL or Slack incoming-webhook URL
    method: str = "POST"
    headers: list[dict] = field(default_factory=list)
    dead_letter_after_minutes: str = ""
    max_per_minute: str = ""  # empty: the kind's default (Slack 60, webhook no limit)
    max_concurrency: str = "1"  # 1: one output at a time, in order

    @classmethod
    def from_sink(cls, sink: Sink) -> SinkFormState:
        """The stored sink with its secrets masked, as the edit form shows it."""
        masked = get_kind(sink.kind).mask_config(sink.config)
        return cls(kind=sink.kind, name=sink.name, enabled=sink.enabled,
                   url=masked.get("url") or masked.get("webhook_url", ""), method=masked.get("method", "POST"),
                   headers=[{"name": k, "value": v} for k, v in (masked.get("headers") or {}).items()],
                   dead_letter_after_minutes="" if sink.dead_letter_after_minutes is None
                   else str(sink.dead_letter_after_minutes),
                   max_per_minute=str(sink.config.get("max_per_minute") or ""),
                   max_concurrency=str(sink.max_concurrency))

    @classmethod
    def from_post(cls, kind: str, data: QueryDict) -> SinkFormState:
        count = data.get("h-count", "0")
        count = min(int(count) if count.isdigit() else 0, MAX_HEADERS)
        return cls(kind=kind, name=data.get("name", "").strip(), enabled=data.get("enabled") in ("on", "true", "1"),
                   url=data.get("url", "").strip(), method=data.get("method", "POST").upper(),
                   headers=[{"name": data.get(f"h-{i}-name", "").strip(), "value": data.get(f"h-{i}-value", "")}
                            for i in range(count)],
                   dead_letter_after_minutes=data.get("dead_letter_after_minutes", "").strip(),
                   max_per_minute=data.get("max_per_minute", "").strip(),
                   max_concurrency=data.get("max_concurrency", "1").strip() or "1")

    def apply(self, action: str) -> bool:
        verb, _, number = action.partition(":")
        if verb == "add-header" and len(self.headers) < MAX_HEADERS:
            self.headers.append({"name": "", "value": ""})
        elif verb == "remove-header" and number.isdigit() and int(number) < len(self.headers):
            self.headers.pop(int(number))
        else:
            return False
        return True

    def to_payload(self) -> dict:
        if self.kind == "slack":
            config = {"webhook_url": self.url}
        else:
            config = {"url": self.url, "method": self.method,
                      "headers": {h["name"]: h["value"] for h in self.headers if h["name"] or h["value"]}}
        if self.max_per_minute:
            # Not a number: passed on as typed, so the serializer names the field.
            config["max_per_minute"] = int(self.max_per_minute) if self.max_per_minute.isdigit() \
                else self.max_per_minute
        return {"name": self.name, "kind": self.kind, "enabled": self.enabled, "config": config,
                # An empty box means "never": outages pause the sink instead.
                "dead_letter_after_minutes": self.dead_letter_after_minutes or None,
                # Not a number: passed on as typed, so the serializer names the field.
                "max_concurrency": int(self.max_concurrency) if self.max_concurrency.isdigit() else self.max_concurrency}


METHOD_CHOICES = METHODS
