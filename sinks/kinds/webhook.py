"""Webhook sink: POST/PUT/PATCH the output message (docs/records.md) as JSON to a URL with custom headers.

The headers' values are secrets: masked for display, and a masked value is only restored for the same origin.
"""

from __future__ import annotations

import orjson
from django.utils.safestring import mark_safe

from outbound import Answer, status_text
from outbound.policy import OutboundTargetError, check_url
from pipelines.validation import clean_headers
from projects.masking import restore_headers, same_origin
from sinks.kinds.base import HttpRequest, HttpSinkKind, TransportError
from sinks.kinds.fields import HEADERS, SELECT, URL, ConfigField, choices

METHODS = ("POST", "PUT", "PATCH")
HINTS = {401: ": check the authorization headers in the sink settings",
         403: ": check the authorization headers in the sink settings",
         404: ": check the URL in the sink settings",
         405: ": check the method in the sink settings"}


class WebhookKind(HttpSinkKind):
    name = "webhook"
    label = "Webhook"
    target = "the webhook"
    form_rows = (
        (ConfigField("method", "Method", SELECT, choices=choices(*METHODS), default="POST"),
         ConfigField("url", "URL", URL, placeholder="https://hooks.example.com/glassflow")),
        (ConfigField("headers", "Headers", HEADERS, help=mark_safe(
            "Sent with every delivery, e.g. an Authorization header. Values are masked after saving; "
            "leave <code>********</code> to keep a stored value.")),),
    )

    @classmethod
    def clean_fields(cls, config: dict, errors: dict[str, str], *, allow_private: bool, stored: dict) -> dict:
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
        return {"url": url, "method": method, "headers": headers}

    @classmethod
    def describe_target(cls, masked: dict) -> str:
        return f"{masked.get('method', 'POST')} {cls.target_of(masked)}"

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
