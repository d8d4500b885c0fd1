"""Webhook sink: POST/PUT/PATCH the output message (docs/records.md) as JSON to a URL with custom headers."""

from __future__ import annotations

from typing import Any

import orjson

from outbound import Answer, status_text
from pipelines.validation import clean_headers
from projects.masking import mask_headers, restore_headers, same_origin
from projects.outbound import OutboundTargetError, check_url
from sinks.kinds.base import ConfigError, HttpRequest, HttpSinkKind, TransportError, clean_max_per_minute

METHODS = ("POST", "PUT", "PATCH")
HINTS = {401: ": check the authorization headers in the sink settings",
         403: ": check the authorization headers in the sink settings",
         404: ": check the URL in the sink settings",
         405: ": check the method in the sink settings"}


class WebhookKind(HttpSinkKind):
    name = "webhook"
    label = "Webhook"
    target = "the webhook"

    @classmethod
    def clean_config(cls, config: Any, *, allow_private: bool, stored: dict | None = None) -> dict:
        if not isinstance(config, dict):
            raise ConfigError({"config": "must be an object with url, method and headers"})
        stored = stored or {}
        errors: dict[str, str] = {}
        unknown = set(config) - {"url", "method", "headers", "max_per_minute"}
        if unknown:
            errors["config"] = f"unknown keys {', '.join(sorted(unknown))}"
        url = config.get("url", "")
        if not isinstance(url, str) or not url.strip():
            errors["url"] = "a URL is required"
        else:
            try:
                url = check_url(url.strip(), allow_private=allow_private)
            except OutboundTargetError as exc:
                errors["url"] = str(exc)
        method = str(config.get("method", "POST")).upper()
        if method not in METHODS:
            errors["method"] = f"unsupported HTTP method {config.get('method')!r}; use {', '.join(METHODS)}"
        headers: dict[str, str] = {}
        try:
            changed = bool(stored) and not same_origin(str(url), stored.get("url", ""))
            headers = restore_headers(clean_headers(config.get("headers", {})), stored.get("headers", {}),
                                      target_changed=changed)
        except ValueError as exc:
            errors["headers"] = str(exc)
        max_per_minute = clean_max_per_minute(config, errors, None)
        if errors:
            raise ConfigError(errors)
        cleaned = {"url": url, "method": method, "headers": headers}
        if max_per_minute is not None:
            cleaned["max_per_minute"] = max_per_minute
        return cleaned

    @classmethod
    def mask_config(cls, config: dict) -> dict:
        return {**config, "headers": mask_headers(config.get("headers", {}))}

    @classmethod
    def request(cls, config: dict, message: dict) -> HttpRequest:
        body = orjson.dumps(message)
        return HttpRequest(config.get("method", "POST"), config["url"], body, config.get("headers", {}))

    @classmethod
    def raise_for_answer(cls, answer: Answer) -> None:
        answered = f"the webhook answered {status_text(answer.status)}"
        detail = f" ({answer.excerpt})" if answer.excerpt else ""
        if answer.retryable:
            raise TransportError(f"{answered}{detail}", retry_after=answer.retry_after)
        if 300 <= answer.status < 400:
            raise TransportError(f"{answered}: redirects are not followed; use the final URL {answer.location}".rstrip(),
                                 permanent=True)
        hint = HINTS.get(answer.status, "")
        raise TransportError(f"{answered}{hint}{detail}", permanent=True)
