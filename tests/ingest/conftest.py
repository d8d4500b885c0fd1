"""Fixtures of the receiver tests: a receiver per module (a module wanting other settings defines its
own ``receiver``) and a project whose key the receiver already accepts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.receiver import (
    Project,
    ReceiverThread,
    make_project,
    running_receiver,
    wait_until_key_works,
)


@pytest.fixture(scope="module")
def receiver(nats_server) -> Iterator[ReceiverThread]:
    yield from running_receiver(nats_server.url)


@pytest.fixture
def project(receiver) -> Project:
    made = make_project()
    wait_until_key_works(receiver, made.key)
    return made
