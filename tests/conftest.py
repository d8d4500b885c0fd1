"""Fixtures: a real nats-server per test session, users in every role, API clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import nats
import pytest
from django.conf import settings
from django.core.cache import cache, caches
from nats.aio.client import Client
from rest_framework.test import APIClient

from glassflow_site.natsserver import NatsServer
from projects.natsbridge import bridge
from tests.support.clients import Js
from tests.support.factories import Team, make_team
from tests.support.pipeline_worker import Agent, agent_server, new_project
from tests.support.sink_harness import teams_with_streams

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


@pytest.fixture
def js(nats_server) -> Js:
    return Js(nats_server.url)


@pytest.fixture
def new_team(settings):
    """Factory of teams whose project has real (small) streams and a KV document; removed afterwards."""
    yield from teams_with_streams(settings)


# The pipeline worker's tests (tests/pipelines, tests/runhistory, tests/agents): a local HTTP agent,
# a NATS connection, and a project with its streams.
@pytest.fixture
def agent() -> Iterator[Agent]:
    with agent_server() as state:
        yield state


@pytest.fixture
async def nc(nats_server) -> AsyncIterator[Client]:
    connection = await nats.connect(nats_server.url, connect_timeout=2)
    yield connection
    await connection.close()


@pytest.fixture
async def project(nc) -> str:
    return await new_project(nc)
