"""A gzip bomb costs the receiver process no more memory than its decompressed-body limit.

The receiver runs as its own subprocess here, started for this test alone, so its peak resident
size (``VmHWM`` in ``/proc``) starts low and can only have grown because of this request: a check
in the test process would read the test runner's own peak, which earlier tests already raised.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.browser import free_port
from tests.support.deadline import wait_for
from tests.support.receiver import gzip_bomb
from tests.support.telemetry import log_request, wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The receiver's default limits: 8 MiB bodies, compressed or decompressed.
BODY_LIMIT_MIB = 8


def peak_rss_mib(pid: int) -> float:
    """Peak resident size of ``pid`` and its descendants (MiB), from /proc."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        status = Path(f"/proc/{current}/status").read_text()
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            pending.extend(int(child) for child in children)
    return total


def test_a_one_gib_gzip_bomb_is_refused_without_inflating_it_in_memory(stack, project):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = stack.start("bomb-receiver", "runreceiver", "--host", "127.0.0.1", "--port", str(port))
    try:
        wait_for(lambda: _ready(url), timeout=30, message="the bomb test's receiver answers /readyz")
        wait_until_key_accepted(url, project.key)
        headers = {"X-API-Key": project.key, "Content-Type": "application/x-protobuf"}
        assert httpx.post(f"{url}/v1/logs", content=log_request([1]), headers=headers, timeout=5).status_code == 200
        before = peak_rss_mib(process.pid)

        bomb = gzip_bomb(gib=1)  # ~1 MB on the wire: under the compressed limit, 1 GiB inflated
        assert len(bomb) < BODY_LIMIT_MIB * 1024**2
        response = httpx.post(f"{url}/v1/logs", content=bomb, timeout=30,
                              headers={**headers, "Content-Encoding": "gzip"})
        assert response.status_code == 413
        assert b"decompressed request body is larger than the limit" in response.content

        grown = peak_rss_mib(process.pid) - before
        # Inflating the bomb would take 1,024 MiB; stopping at the limit costs about 8 MiB of output.
        assert grown < 4 * BODY_LIMIT_MIB, f"the receiver's peak memory grew by {grown:.0f} MiB"
    finally:
        stack.stop("bomb-receiver")


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
