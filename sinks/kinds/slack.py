"""Slack sink: an incoming-webhook URL; the message text is built from the agent's payload."""

from __future__ import annotations

from typing import Any

from projects.masking import mask_url, restore_value
from projects.outbound import OutboundTargetError, check_url
from sinks.kinds.base import ConfigError, SinkKind


class SlackKind(SinkKind):
    name = "slack"
    label = "Slack"

    @classmethod
    def clean_config(cls, config: Any, *, allow_private: bool, stored: dict | None = None) -> dict:
        if not isinstance(config, dict):
            raise ConfigError({"config": "must be an object with webhook_url"})
        stored = stored or {}
        errors: dict[str, str] = {}
        unknown = set(config) - {"webhook_url"}
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
        if errors:
            raise ConfigError(errors)
        return {"webhook_url": url}

    @classmethod
    def mask_config(cls, config: dict) -> dict:
        return {**config, "webhook_url": mask_url(config.get("webhook_url", ""))}
