"""Browser form state of a sink: the fields every sink has plus its kind's ``ConfigField``s.

Validation is ``SinkSerializer``'s (per-kind ``clean_config``, masking and restoring of
secrets); this module only maps form fields to that document and back, generically: what a
kind's fields are and how each is shown and read is the kind's (sinks/kinds/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from sinks.kinds import get_kind
from sinks.kinds.base import SinkKind
from sinks.kinds.fields import HEADERS, MAX_HEADERS, ConfigField
from sinks.models import Sink


@dataclass
class BoundField:
    """One of the kind's fields with its value and error, as the template shows it."""

    field: ConfigField
    value: Any
    error: str = ""

    @property
    def rows(self) -> list[tuple[int, dict]]:
        """The numbered name/value rows of a headers field."""
        return list(enumerate(self.value)) if self.field.widget == HEADERS else []


@dataclass
class SinkFormState:
    kind: str
    name: str = ""
    enabled: bool = True
    values: dict[str, Any] = field(default_factory=dict)  # the kind's own fields, by config key
    dead_letter_after_minutes: str = ""
    max_per_minute: str = ""  # empty: the kind's default (e.g. Slack 60, webhook no limit)
    max_concurrency: str = "1"  # 1: one output at a time, in order

    def __post_init__(self) -> None:
        for config_field in self.sink_kind.fields():
            self.values.setdefault(config_field.key, config_field.initial())

    @property
    def sink_kind(self) -> type[SinkKind]:
        return get_kind(self.kind)

    @classmethod
    def from_sink(cls, sink: Sink) -> SinkFormState:
        """The stored sink with its secrets masked, as the edit form shows it."""
        kind = get_kind(sink.kind)
        masked = kind.mask_config(sink.config)
        return cls(kind=sink.kind, name=sink.name, enabled=sink.enabled,
                   values={config_field.key: config_field.from_config(masked) for config_field in kind.fields()},
                   dead_letter_after_minutes="" if sink.dead_letter_after_minutes is None
                   else str(sink.dead_letter_after_minutes),
                   max_per_minute=str(sink.config.get("max_per_minute") or ""),
                   max_concurrency=str(sink.max_concurrency))

    @classmethod
    def from_post(cls, kind: str, data: QueryDict) -> SinkFormState:
        return cls(kind=kind, name=data.get("name", "").strip(), enabled=data.get("enabled") in ("on", "true", "1"),
                   values={config_field.key: config_field.from_post(data) for config_field in get_kind(kind).fields()},
                   dead_letter_after_minutes=data.get("dead_letter_after_minutes", "").strip(),
                   max_per_minute=data.get("max_per_minute", "").strip(),
                   max_concurrency=data.get("max_concurrency", "1").strip() or "1")

    def apply(self, action: str) -> bool:
        """A button other than "save": add or remove a row of the kind's headers field."""
        headers = next((self.values[f.key] for f in self.sink_kind.fields() if f.widget == HEADERS), None)
        verb, _, number = action.partition(":")
        if headers is None:
            return False
        if verb == "add-header" and len(headers) < MAX_HEADERS:
            headers.append({"name": "", "value": ""})
        elif verb == "remove-header" and number.isdigit() and int(number) < len(headers):
            headers.pop(int(number))
        else:
            return False
        return True

    def bound_rows(self, errors: dict[str, str]) -> list[list[BoundField]]:
        """The kind's fields as the form lays them out, each with its value and error."""
        return [[BoundField(f, self.values[f.key], errors.get(f.key, "")) for f in row]
                for row in self.sink_kind.form_rows]

    @property
    def max_per_minute_placeholder(self) -> str:
        kind = self.sink_kind
        if kind.default_max_per_minute is None:
            return "no limit"
        note = kind.default_max_per_minute_note
        return f"{kind.default_max_per_minute} ({note})" if note else str(kind.default_max_per_minute)

    def to_payload(self) -> dict:
        config = {f.key: f.to_config(self.values[f.key]) for f in self.sink_kind.fields()}
        if self.max_per_minute:
            # Not a number: passed on as typed, so the serializer names the field.
            config["max_per_minute"] = int(self.max_per_minute) if self.max_per_minute.isdigit() \
                else self.max_per_minute
        return {"name": self.name, "kind": self.kind, "enabled": self.enabled, "config": config,
                # An empty box means "never": outages pause the sink instead.
                "dead_letter_after_minutes": self.dead_letter_after_minutes or None,
                # Not a number: passed on as typed, so the serializer names the field.
                "max_concurrency": int(self.max_concurrency) if self.max_concurrency.isdigit() else self.max_concurrency}
