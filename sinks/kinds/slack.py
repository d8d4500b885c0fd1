"""Slack sink: an incoming-webhook URL (a secret); the message text is built from the agent's payload.

The message (``build_slack_text``) is pure, no I/O: known payload keys (summary, severity,
root_cause, remediation) get their own lines; every other key is shown as pretty JSON in a code
block. Slack truncates ``text`` above 40,000 characters, so the message is kept below that by
shortening the longest parts first and saying so, instead of letting Slack cut a code block in
the middle. Slack's documented error bodies become permanent errors that say what to do.
"""

from __future__ import annotations

import json
from typing import Any

from outbound import Answer, status_text
from sinks.kinds.base import HttpRequest, HttpSinkKind, TransportError, clean_secret_url
from sinks.kinds.fields import URL, ConfigField

MAX_TEXT = 39_000  # Slack's hard limit is 40,000; leave room for our own markers
MAX_FIELD = 3_000
TRUNCATED = "… (truncated)"

SEVERITY_EMOJI = {
    "critical": ":red_circle:", "fatal": ":red_circle:", "emergency": ":red_circle:",
    "high": ":large_orange_circle:", "error": ":large_orange_circle:",
    "medium": ":large_yellow_circle:", "warning": ":large_yellow_circle:", "warn": ":large_yellow_circle:",
    "low": ":large_blue_circle:", "info": ":large_blue_circle:", "debug": ":white_circle:",
    "ok": ":large_green_circle:", "resolved": ":large_green_circle:",
}
UNKNOWN_SEVERITY_EMOJI = ":white_circle:"
KNOWN_KEYS = ("summary", "severity", "root_cause", "remediation")
LABELS = {"summary": "Summary", "severity": "Severity", "root_cause": "Root cause", "remediation": "Remediation"}


def escape(text: str) -> str:
    """Slack's mrkdwn needs &, < and > escaped; nothing else is special outside formatting marks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - len(TRUNCATED))] + TRUNCATED


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def severity_line(value: Any) -> str:
    text = as_text(value).strip()
    emoji = SEVERITY_EMOJI.get(text.lower(), UNKNOWN_SEVERITY_EMOJI)
    return f"{emoji} *Severity:* {escape(shorten(text, 100))}"


def code_block(value: Any, limit: int) -> str:
    rendered = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    # A literal ``` inside the JSON would close the fence early; a zero-width space breaks it.
    rendered = escape(rendered.replace("```", "`\u200b``"))
    if len(rendered) > limit:
        rendered = rendered[: max(0, limit - len(TRUNCATED) - 1)] + "\n" + TRUNCATED
    return f"```\n{rendered}\n```"


def footer(message: dict) -> str:
    parts = []
    if message.get("requestId"):
        parts.append(f"request {escape(str(message['requestId']))}")
    if message.get("receivedAt"):
        parts.append(f"received {escape(str(message['receivedAt']))}")
    return f"_GlassFlow · {' · '.join(parts)}_" if parts else "_GlassFlow_"


def build_slack_text(message: dict, limit: int = MAX_TEXT) -> str:
    """The mrkdwn text for one output message, never longer than ``limit`` characters."""
    payload = message.get("payload")
    lines: list[str] = []
    rest: Any = None
    if isinstance(payload, dict):
        for key in KNOWN_KEYS:
            if key not in payload or payload[key] in (None, ""):
                continue
            if key == "severity":
                lines.append(severity_line(payload[key]))
            else:
                lines.append(f"*{LABELS[key]}:* {escape(shorten(as_text(payload[key]), MAX_FIELD))}")
        rest = {key: value for key, value in payload.items() if key not in KNOWN_KEYS} or None
    elif isinstance(payload, str):
        lines.append(escape(shorten(payload, MAX_FIELD)) if payload else "_(empty output)_")
    elif payload is not None:
        rest = payload
    if not lines and rest is None:
        lines.append("_(empty output)_")
    tail = footer(message)
    head = "\n".join(lines)
    if rest is not None:
        room = limit - len(head) - len(tail) - 10  # fences and newlines
        head = f"{head}\n{code_block(rest, max(200, room))}" if head else code_block(rest, max(200, room))
    text = f"{head}\n{tail}"
    return text if len(text) <= limit else shorten(text, limit)


def build_slack_body(message: dict) -> dict:
    """The JSON body for a Slack incoming webhook."""
    return {"text": build_slack_text(message), "mrkdwn": True}


# Slack's documented incoming-webhook error bodies, each with what the user should do.
SLACK_ERRORS = {
    "invalid_payload": "Slack rejected the message as invalid (invalid_payload)",
    "no_text": "Slack rejected the message because it has no text (no_text)",
    "no_service": "the Slack webhook is disabled or was removed (no_service): create a new incoming webhook",
    "no_service_id": "the Slack webhook URL is incomplete (no_service_id): copy the whole URL again",
    "no_team": "the Slack workspace of this webhook no longer exists (no_team)",
    "team_disabled": "the Slack workspace of this webhook is disabled (team_disabled)",
    "invalid_team": "the Slack webhook URL names an unknown workspace (invalid_team): copy the whole URL again",
    "invalid_token": "the Slack webhook token is invalid or revoked (invalid_token): create a new incoming webhook",
    "action_prohibited": "a Slack admin restricted posting to this channel (action_prohibited)",
    "posting_to_general_channel_denied":
        "only Slack admins may post to this channel (posting_to_general_channel_denied): choose another channel",
    "channel_not_found": "the Slack channel of this webhook was not found (channel_not_found): "
                         "create a new incoming webhook for an existing channel",
    "channel_is_archived": "the Slack channel of this webhook is archived (channel_is_archived): "
                           "unarchive it or create a new incoming webhook",
    "user_not_found": "the Slack user of this webhook was not found (user_not_found)",
}


class SlackKind(HttpSinkKind):
    name = "slack"
    label = "Slack"
    target = "Slack"
    # Slack documents about one message a second per incoming webhook (short bursts allowed).
    default_max_per_minute = 60
    default_max_per_minute_note = "Slack's one a second"
    name_placeholder = "#incidents"
    form_rows = ((ConfigField("webhook_url", "Slack incoming-webhook URL", URL, secret=True,
                              placeholder="https://hooks.slack.com/services/…",
                              help="The path is a secret: after saving only the host is shown. "
                                   "Leave the masked value to keep it."),),)

    @classmethod
    def clean_fields(cls, config: dict, errors: dict[str, str], *, allow_private: bool, stored: dict) -> dict:
        return {"webhook_url": clean_secret_url(config, "webhook_url", stored, errors, allow_private=allow_private,
                                                required="the Slack incoming-webhook URL is required")}

    @classmethod
    def request(cls, config: dict, message: dict) -> HttpRequest:
        body = json.dumps(build_slack_body(message), ensure_ascii=False).encode()
        return HttpRequest("POST", config["webhook_url"], body, {})

    @classmethod
    def raise_for_answer(cls, answer: Answer) -> None:
        if answer.status == 429:
            raise TransportError("Slack is rate limiting this webhook (429 rate_limited)",
                                 retry_after=answer.retry_after)
        if answer.permanent and answer.excerpt in SLACK_ERRORS:
            raise TransportError(SLACK_ERRORS[answer.excerpt], permanent=True)
        detail = f" ({answer.excerpt})" if answer.excerpt else ""
        raise TransportError(f"Slack answered {status_text(answer.status)}{detail}", permanent=answer.permanent,
                             retry_after=answer.retry_after)
