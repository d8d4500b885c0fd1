"""When each API key was last used, as reported by the receiver through the ``gf-ai-keyuse`` KV bucket.

The receiver never opens the database, so it writes the time a key was last used into
NATS (at most once a minute per key); ``refresh_last_used`` copies newer times into
``ApiKey.last_used_at`` when keys are listed. If NATS is unavailable the stored times are shown.
"""

from __future__ import annotations

import asyncio
import logging

from nats.js.errors import BucketNotFoundError, KeyNotFoundError

from glassflow_site.timestamps import parse_rfc3339
from projects.models import ApiKey
from projects.natsbridge import NatsUnavailable, bridge

logger = logging.getLogger(__name__)

KEY_USE_BUCKET = "gf-ai-keyuse"


def refresh_last_used(keys: list[ApiKey]) -> None:
    """Update ``last_used_at`` of these keys from the KV bucket, in place and in the database."""
    if not keys:
        return

    async def read(js) -> list[bytes | None]:
        try:
            kv = await js.key_value(KEY_USE_BUCKET)
        except BucketNotFoundError:
            return [None] * len(keys)

        async def one(prefix: str) -> bytes | None:
            try:
                return (await kv.get(prefix)).value
            except KeyNotFoundError:
                return None

        return await asyncio.gather(*(one(key.prefix) for key in keys))

    try:
        values = bridge.call(read)
    except NatsUnavailable as exc:
        logger.info("key usage not refreshed: %s", exc)
        return
    for key, value in zip(keys, values, strict=True):
        used = parse_rfc3339(value)
        if used is not None and (key.last_used_at is None or used > key.last_used_at):
            key.last_used_at = used
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=used)
