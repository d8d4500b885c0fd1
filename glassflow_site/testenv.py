"""Environment defaults for the test suite, loaded as a pytest plugin (``-p glassflow_site.testenv``).

pytest-django sets Django up before any conftest.py is imported, so these must be in
place earlier than a conftest could put them. Real environment variables win.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOW_PRIVATE_TARGETS", "1")
os.environ.setdefault("INTERNAL_SERVICE_TOKEN", "test-internal-token-0123456789abcdefghij")
os.environ.setdefault("GLASSFLOW_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
os.environ.setdefault("CONFIG_RECONCILE_INTERVAL", "1")
# JetStream reserves each stream's max_bytes from the server's storage up front; with the 1 GiB
# default a few dozen test projects exhaust the test server (error 10047).
os.environ.setdefault("STREAM_MAX_BYTES", "64MiB")
