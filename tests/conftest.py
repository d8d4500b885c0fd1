"""Fixtures: a real nats-server per test session, users in every role, API clients."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import nats
import pytest
from django.conf import settings
from django.core.cache import cache, caches
from rest_framework.test import APIClient

from glassflow_site.natsserver import NatsServer
from projects.natsbridge import bridge
from tests.factories import Team, make_team

# Password hashing at production strength makes every login in the suite take ~0.3 s.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path_factory.mktemp("nats")).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _nats_settings(nats_server) -> Iterator[None]:
    """Point the control plane at the session's nats-server (it may have been restarted by a fault test)."""
    settings.NATS_URL = nats_server.url
    settings.NATS_SERVERS = [nats_server.url]
    bridge.reset()
    yield


@pytest.fixture(autouse=True)
def _clear_cache(request, _django_db_marker) -> None:
    cache.clear()
    if request.node.get_closest_marker("django_db"):
        # Rate-limit counters live in a database table that transactional tests do not flush.
        caches["ratelimit"].clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def team(db) -> Team:
    return make_team()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


class Js:
    """Run JetStream look-ups from synchronous tests against the session's server."""

    def __init__(self, url: str):
        self.url = url

    def run(self, operation):
        async def main():
            nc = await nats.connect(self.url, connect_timeout=2, max_reconnect_attempts=0)
            try:
                return await operation(nc.jetstream())
            finally:
                await nc.close()

        return asyncio.run(main())


@pytest.fixture
def js(nats_server) -> Js:
    return Js(nats_server.url)
