"""Data-plane processes raise their open-file limit at start, and a pipeline worker sizes its
outbound pool to what it got instead of failing connects with EMFILE."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, logging, resource, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
from glassflow_site.fdlimit import connections_within_file_limit
kept = connections_within_file_limit(int(sys.argv[1]))
print(json.dumps({"kept": kept, "soft": resource.getrlimit(resource.RLIMIT_NOFILE)[0]}))
"""


def probe(max_connections: int, soft: int, hard: int) -> tuple[dict, str]:
    """Run the sizing in a child whose limits start at (soft, hard), as systemd would set them."""
    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    done = subprocess.run([sys.executable, "-c", PROBE, str(max_connections)], cwd=ROOT, capture_output=True,
                          text=True, timeout=30, preexec_fn=limits, check=True)
    return json.loads(done.stdout), done.stderr


@pytest.fixture(autouse=True)
def _room_to_test():
    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 8192:
        pytest.skip("this machine's hard open-file limit is below 8192")


def test_the_soft_limit_is_raised_within_the_hard_one_so_every_connection_fits():
    result, warnings = probe(4096, soft=1024, hard=8192)
    assert result == {"kept": 4096, "soft": 4096 + 256}
    assert warnings == ""


def test_a_hard_limit_too_low_shrinks_the_pool_with_a_warning_naming_the_fix():
    result, warnings = probe(4096, soft=512, hard=1024)
    assert result == {"kept": 1024 - 256, "soft": 1024}
    assert "LimitNOFILE" in warnings


def test_a_soft_limit_already_high_enough_is_left_alone():
    result, _ = probe(100, soft=4096, hard=8192)
    assert result == {"kept": 100, "soft": 4096}
