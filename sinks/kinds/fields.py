"""The keys of a sink kind's config, declared once: how the sink form shows and reads each, and which are secret.

A kind lists its ``ConfigField``s (``SinkKind.form_rows``); the generic sink form
(``sinks/forms.py``, ``sinks/templates/sinks/partials/form.html``) and the API's masking iterate
over them and know no kind. A field's form input is named after its config key. ``widget``:

- ``text``, ``url``: one input; ``select``: one of ``choices`` (``(value, text)`` pairs);
- ``headers``: name/value rows (inputs ``h-count``, ``h-{i}-name``, ``h-{i}-value``; actions
  ``add-header`` and ``remove-header:{i}``), at most one per kind, stored as ``{name: value}``;
  the values are secrets, masked for display.

``secret`` on a ``url`` field: the URL itself is the credential (an incoming webhook), so only
its origin is shown; a masked value sent back keeps the stored one (the kind's ``clean_config``
restores it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from projects.masking import mask_headers, mask_url

TEXT, URL, SELECT, HEADERS = "text", "url", "select", "headers"
MAX_HEADERS = 50

if TYPE_CHECKING:
    from django.http import QueryDict


@dataclass(frozen=True)
class ConfigField:
    key: str
    label: str
    widget: str = TEXT
    placeholder: str = ""
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    default: str = ""
    secret: bool = False

    def initial(self) -> Any:
        """The form's value for a new sink."""
        return [] if self.widget == HEADERS else self.default

    @property
    def masked(self) -> bool:
        """Whether the API and the pages show this value masked."""
        return self.secret or self.widget == HEADERS

    def mask(self, value: Any) -> Any:
        if self.widget == HEADERS:
            return mask_headers(value or {})
        return mask_url(value or "") if self.secret else value

    def from_config(self, masked: dict) -> Any:
        """The form's value for a stored (already masked) config."""
        value = masked.get(self.key)
        if self.widget == HEADERS:
            return [{"name": name, "value": text} for name, text in (value or {}).items()]
        return self.default if value is None else str(value)

    def from_post(self, data: QueryDict) -> Any:
        """The form's value as posted."""
        if self.widget == HEADERS:
            count = data.get("h-count", "0")
            count = min(int(count) if count.isdigit() else 0, MAX_HEADERS)
            return [{"name": data.get(f"h-{i}-name", "").strip(), "value": data.get(f"h-{i}-value", "")}
                    for i in range(count)]
        value = data.get(self.key, self.default).strip()
        if self.widget == SELECT:  # "post" selects POST again when the form comes back with errors
            value = next((choice for choice, _ in self.choices if choice.lower() == value.lower()), value)
        return value

    def to_config(self, value: Any) -> Any:
        """The config value for the API's document (validated by the kind's ``clean_config``)."""
        if self.widget == HEADERS:
            return {row["name"]: row["value"] for row in value if row["name"] or row["value"]}
        return value


def choices(*values: str) -> tuple[tuple[str, str], ...]:
    """Select choices whose text is the value itself."""
    return tuple((value, value) for value in values)
