"""Chat webhook sink: the incoming webhook of Microsoft Teams, Discord, Mattermost, Google Chat or Rocket.Chat.

The URL is the secret (masked like Slack's). The output message becomes one Markdown text,
posted as ``{"text": …}`` (Teams, Mattermost, Google Chat, Rocket.Chat) or ``{"content": …}``
(Discord), whichever ``text_key`` says. Known payload keys get a bold label each, the rest is a
JSON code block; the text stays within Discord's 2,000 characters, the smallest of these limits.
"""

from __future__ import annotations

import json
from typing import Any

from outbound import Answer, status_text
from sinks.kinds.base import HttpRequest, HttpSinkKind, TransportError, clean_secret_url
from sinks.kinds.fields import SELECT, URL, ConfigField

MAX_TEXT = 2_000
TRUNCATED = "… (truncated)"
LABELS = {"summary": "Summary", "severity": "Severity", "root_cause": "Root cause", "remediation": "Remediation"}
TEXT_KEYS = (("text", "text (Teams, Mattermost, Google Chat, Rocket.Chat)"), ("content", "content (Discord)"))


def _json(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=True, default=str)


def build_chat_text(message: dict, limit: int = MAX_TEXT) -> str:
    """The Markdown text for one output message, never longer than ``limit`` characters."""
    payload = message.get("payload")
    fields = payload if isinstance(payload, dict) else {}
    lines = [f"**{label}:** {value if isinstance(value, str) else _json(value)}"
             for key, label in LABELS.items() if (value := fields.get(key)) not in (None, "")]
    rest = {key: value for key, value in fields.items() if key not in LABELS} if isinstance(payload, dict) else payload
    if isinstance(rest, str) and rest:
        lines.append(rest)
    footer = f"_GlassFlow · request {message.get('requestId') or '?'}_"
    if not isinstance(rest, str | None) and rest != {}:
        room = limit - len("\n".join([*lines, footer])) - len("\n```json\n\n```")
        block = _json(rest, indent=2).replace("```", "`\u200b``")  # a ``` inside would close the fence
        if len(block) > room:
            block = block[: max(0, room - len(TRUNCATED) - 1)] + "\n" + TRUNCATED
        lines.append(f"```json\n{block}\n```")
    text = "\n".join([*(lines or ["_(empty output)_"]), footer])
    return text if len(text) <= limit else text[: limit - len(TRUNCATED)] + TRUNCATED


class ChatWebhookKind(HttpSinkKind):
    name = "chat_webhook"
    label = "Chat webhook"
    target = "the chat webhook"
    # Discord allows 30 messages a minute per webhook; Teams and the others allow more.
    default_max_per_minute = 30
    default_max_per_minute_note = "Discord's limit"
    name_placeholder = "#incidents"
    form_rows = (
        (ConfigField("webhook_url", "Incoming-webhook URL", URL, secret=True,
                     placeholder="https://discord.com/api/webhooks/…",
                     help="The URL is a secret: after saving only the host is shown. Leave the masked value to keep it."),),
        (ConfigField("text_key", "Message field", SELECT, choices=TEXT_KEYS, default="text"),),
    )

    @classmethod
    def clean_fields(cls, config: dict, errors: dict[str, str], *, allow_private: bool, stored: dict) -> dict:
        url = clean_secret_url(config, "webhook_url", stored, errors, allow_private=allow_private,
                               required="the incoming-webhook URL is required")
        text_key = config.get("text_key", "text")
        if not isinstance(text_key, str) or text_key not in dict(TEXT_KEYS):
            errors["text_key"] = f"must be one of {', '.join(dict(TEXT_KEYS))}"
        return {"webhook_url": url, "text_key": text_key}

    @classmethod
    def request(cls, config: dict, message: dict) -> HttpRequest:
        body = json.dumps({config.get("text_key", "text"): build_chat_text(message)}, ensure_ascii=False).encode()
        return HttpRequest("POST", config["webhook_url"], body, {})

    @classmethod
    def raise_for_answer(cls, answer: Answer) -> None:
        if answer.status in (401, 403, 404):  # the webhook was deleted or its token revoked
            detail = f" ({answer.excerpt})" if answer.excerpt else ""
            raise TransportError(f"the chat webhook answered {status_text(answer.status)}: create a new incoming "
                                 f"webhook and paste its URL{detail}", permanent=True)
        super().raise_for_answer(answer)
