"""The workers' Prometheus endpoints listen on loopback unless told otherwise (``--metrics-addr``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest

from glassflow_site.natsserver import free_port
from tests.support.browser import ROOT
from tests.support.deadline import wait_for

pytestmark = pytest.mark.slow


def listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses (hex, as /proc/net shows them) with a socket listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                address, _, hex_port = fields[1].partition(":")
                if int(hex_port, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                    found.add(address)
    return found


@pytest.mark.parametrize("command", ["runpipeline", "runsink"])
def test_worker_metrics_listen_on_loopback_by_default(nats_server, command):
    port = free_port()
    env = {**os.environ, "NATS_URL": nats_server.url, "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), command, "--metrics-port", str(port)],
                               cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_for(lambda: _serves(port), timeout=30, message=f"{command} serves /metrics")
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only, not 0.0.0.0
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def _serves(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
