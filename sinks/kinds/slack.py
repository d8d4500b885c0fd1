"""Slack sink: an incoming-webhook URL; the message text is built from the agent's payload."""

from __future__ import annotations

import json
from typing import Any

from outbound import Answer, status_text
from projects.masking import mask_url, restore_value
from projects.outbound import OutboundTargetError, check_url
from sinks.kinds.base import ConfigError, HttpRequest, HttpSinkKind, TransportError, clean_max_per_minute
from sinks.slack_message import build_slack_body

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

    @classmethod
    def clean_config(cls, config: Any, *, allow_private: bool, stored: dict | None = None) -> dict:
        if not isinstance(config, dict):
            raise ConfigError({"config": "must be an object with webhook_url"})
        stored = stored or {}
        errors: dict[str, str] = {}
        unknown = set(config) - {"webhook_url", "max_per_minute"}
        if unknown:
            errors["config"] = f"unknown keys {', '.join(sorted(unknown))}"
        url = config.get("webhook_url", "")
        if isinstance(url, str):
            url = restore_value(url.strip(), stored.get("webhook_url", ""), mask_url(stored.get("webhook_url", "")))
        if not isinstance(url, str) or not url:
            errors["webhook_url"] = "the Slack incoming-webhook URL is required"
        else:
            try:
                check_url(url, allow_private=allow_private)
            except OutboundTargetError as exc:
                errors["webhook_url"] = str(exc)
        max_per_minute = clean_max_per_minute(config, errors, cls.default_max_per_minute)
        if errors:
            raise ConfigError(errors)
        return {"webhook_url": url, "max_per_minute": max_per_minute}

    @classmethod
    def mask_config(cls, config: dict) -> dict:
        return {**config, "webhook_url": mask_url(config.get("webhook_url", ""))}

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
