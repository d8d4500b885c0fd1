"""Fixtures of the end-to-end tests: the data plane as subprocesses, stand-in servers, a project.

The receiver, one pipeline worker and one sink worker run once for the whole ``tests/e2e``
package against the session's nats-server (starting them costs seconds of CPU on a 2-core
machine). Each test gets its own project through the real API, so its own streams, consumers
and configuration document, and deletes it afterwards, which stops its pipeline in the workers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.clients import Js
from tests.support.e2e_project import ProjectApi
from tests.support.factories import UserFactory
from tests.support.processes import PIPELINE_WORKER, DataPlane
from tests.support.standins import Agent, StandIn


@pytest.fixture(scope="package")
def data_plane(nats_server, tmp_path_factory) -> Iterator[DataPlane]:
    plane = DataPlane(nats_server.url, tmp_path_factory.mktemp("e2e-logs"))
    try:
        plane.start_receiver()
        plane.start_pipeline(PIPELINE_WORKER)
        plane.start_sink()
        plane.wait_receiver_ready()
        yield plane
    finally:
        plane.stop_all()


@pytest.fixture
def stack(data_plane) -> Iterator[DataPlane]:
    """The package's data plane, checked alive before the test; a process the test killed or
    stopped is started again for the next one."""
    data_plane.ensure_running("receiver", PIPELINE_WORKER, "sink")  # after a failed test's kill
    data_plane.wait_receiver_ready()
    yield data_plane
    data_plane.ensure_running("receiver", PIPELINE_WORKER, "sink")


@pytest.fixture
def project(transactional_db, js: Js, request) -> Iterator[ProjectApi]:
    user = UserFactory()
    project = ProjectApi(user, request.node.name[:60], js)
    yield project
    project.delete()  # removes its streams and its config document: the workers stop its consumers


@pytest.fixture
def agent(stack, project) -> Iterator[Agent]:
    agent = Agent(receiver_url=stack.receiver_url, api_key=project.key)
    yield agent
    agent.close()


@pytest.fixture
def webhook() -> Iterator[StandIn]:
    server = StandIn("hook")
    yield server
    server.close()


@pytest.fixture
def slack() -> Iterator[StandIn]:
    server = StandIn("slack")
    server.answer_body = b"ok"  # Slack answers a plain-text "ok"
    yield server
    server.close()
