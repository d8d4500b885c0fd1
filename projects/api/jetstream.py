"""Running a JetStream operation for an API view: what NATS refuses is the caller's 4xx, NATS being
unreachable is a 503 with a message saying so (never an empty answer that looks like success)."""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ValidationError

from projects.natsbridge import NatsRejected, NatsUnavailable, bridge


class NatsDown(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "NATS is unreachable, so dead letters and statistics cannot be read right now; try again shortly."
    default_code = "nats_unavailable"


def call(operation, timeout: float | None = None, missing: tuple[type[Exception], ...] = ()):
    """Run ``operation`` through the NATS bridge; one of ``missing`` raised by it is a 404 with its message."""
    try:
        return bridge.call(operation, timeout=timeout)
    except missing as exc:
        raise NotFound(str(exc)) from None
    except NatsRejected as exc:
        if exc.status == 404:
            raise NotFound(f"Not found: {exc.description}.") from None
        raise ValidationError({"detail": f"JetStream refused the request: {exc.description}."}) from None
    except NatsUnavailable as exc:
        raise NatsDown(f"{NatsDown.default_detail} ({exc})") from None
