"""Fixtures of the dead-letter and statistics tests: a running sink worker and loopback sink targets."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.sink_harness import StubServer, WorkerThread


@pytest.fixture
def stub_servers() -> Iterator[Callable[[], StubServer]]:
    """Start loopback HTTP endpoints standing in for sink targets; all are taken down after the test."""
    started: list[StubServer] = []

    def up() -> StubServer:
        started.append(StubServer().up())
        return started[-1]

    yield up
    for server in started:
        server.down()


@pytest.fixture
def sink_worker(nats_server, stub_servers) -> Iterator[WorkerThread]:
    """A sink worker on the session's nats-server, stopped before the stub targets go down."""
    worker = WorkerThread(nats_server.url).start()
    yield worker
    worker.stop()
