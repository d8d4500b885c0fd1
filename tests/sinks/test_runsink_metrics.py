"""``manage.py runsink`` serves Prometheus metrics on --metrics-port and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from glassflow_site.natsserver import free_port
from tests.support.deadline import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_runsink_serves_sink_metrics_and_exits_on_sigterm(nats_server, tmp_path):
    port = free_port()
    env = {**os.environ, "NATS_URL": nats_server.url}
    process = subprocess.Popen([sys.executable, "manage.py", "runsink", "--metrics-port", str(port),
                                "--metrics-addr", "127.0.0.1"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def scrape() -> str:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
            except httpx.HTTPError:
                return ""

        body = wait_for(scrape, timeout=30, message="runsink metrics endpoint")
        assert "# TYPE glassflow_sink_deliveries_total counter" in body
        assert "glassflow_sink_dead_letters_total" in body
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
