"""Fixtures of the sink tests: loopback HTTP endpoints standing in for sink targets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.sink_harness import StubServer


def _stub_server() -> Iterator[StubServer]:
    server = StubServer().up()
    yield server
    server.down()


# Each name is its own server, so a test can tell a webhook's requests from Slack's.
stub = pytest.fixture(_stub_server, name="stub")
webhook = pytest.fixture(_stub_server, name="webhook")
slack = pytest.fixture(_stub_server, name="slack")
