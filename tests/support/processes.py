"""The data plane as real subprocesses: ``runreceiver``, ``runpipeline`` (one or more) and ``runsink``.

They are the management commands a deployment runs, pointed at the session's nats-server with
``NATS_URL`` and inheriting the test's Django settings environment; they never open the database
and learn every project's configuration from the ``gf-ai-config`` KV bucket. Each process writes
its log to ``<log_dir>/<name>.log``; failure messages name that folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.browser import ROOT, free_port

# Short sink retries, so an outage of a stand-in costs the tests a fraction of a second per attempt
# (outages pause: only a sink's own "dead-letter after" would give up).
PIPELINE_WORKER = "e2e-pipeline-a"  # the worker id of the pipeline worker the e2e data plane starts first
SINK_OPTIONS = ["--initial-backoff-ms", "100", "--max-backoff-ms", "400", "--request-timeout", "5",
                "--metrics-port", "0"]


def wait_http_ok(url: str, *, alive: Callable[[], object], timeout: float, interval: float = 0.1,
                 what: str) -> float:
    """Poll GET ``url`` until it answers 200; returns the seconds it took.

    ``alive()`` runs before each try and raises when the process behind ``url`` has exited, so a
    crash fails at once with its own message instead of at the deadline.
    """
    started = time.monotonic()
    last = ""
    while time.monotonic() - started < timeout:
        alive()
        try:
            response = httpx.get(url, timeout=1)
            if response.status_code == 200:
                return time.monotonic() - started
            last = response.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(interval)
    raise AssertionError(f"{what} did not answer {url} with 200 within {timeout}s ({last})")


def start_example_agent(script: str, env: dict[str, str], port: int, log: Path,
                        timeout: float = 30.0) -> tuple[subprocess.Popen, str]:
    """Run an example agent (``script`` relative to the repository) as its README does, in its own
    process writing to ``log``, and wait until it answers GET / on ``port``; returns it and its URL."""
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, str(ROOT / script)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"

    def alive() -> None:
        assert process.poll() is None, f"the agent {script} exited:\n{log.read_text()}"

    try:
        wait_http_ok(url, alive=alive, timeout=timeout, what=f"the agent {script}")
    except BaseException:
        process.terminate()
        process.wait(10)
        raise
    return process, url


class DataPlane:
    """Start, kill and restart the data-plane processes of one test package."""

    def __init__(self, nats_url: str, log_dir: Path):
        self.nats_url = nats_url
        self.log_dir = log_dir
        self.receiver_port = free_port()
        self.receiver_grpc_port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.commands: dict[str, tuple[str, ...]] = {}
        self.env = {**os.environ, "NATS_URL": nats_url, "ALLOW_PRIVATE_TARGETS": "1", "PYTHONUNBUFFERED": "1",
                    "LOG_LEVEL": "INFO"}

    @property
    def receiver_url(self) -> str:
        return f"http://127.0.0.1:{self.receiver_port}"

    @property
    def receiver_grpc_url(self) -> str:
        return f"http://127.0.0.1:{self.receiver_grpc_port}"

    def start(self, name: str, *arguments: str) -> subprocess.Popen:
        """Start ``manage.py <command> <arguments>`` under ``name`` (its log is appended to)."""
        previous = self.processes.get(name)
        if previous is not None and previous.poll() is None:
            raise RuntimeError(f"{name} is still running")
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115  closed with the process
        process = subprocess.Popen([sys.executable, "manage.py", *arguments], cwd=ROOT, env=self.env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()  # the child holds its own descriptor
        self.processes[name] = process
        self.commands[name] = arguments
        return process

    def ensure_running(self, *names: str) -> None:
        """Start again any of ``names`` that was killed or stopped (with the arguments it had)."""
        for name in names:
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                self.processes.pop(name, None)
                self.start(name, *self.commands[name])

    def start_receiver(self) -> None:
        self.start("receiver", "runreceiver", "--host", "127.0.0.1", "--port", str(self.receiver_port),
                   "--grpc-port", str(self.receiver_grpc_port))

    def start_pipeline(self, worker_id: str) -> None:
        """A pipeline worker; ``worker_id`` names it in the stats bucket and in ``processes``."""
        self.start(worker_id, "runpipeline", "--metrics-port", "0", "--worker-id", worker_id,
                   "--grace-seconds", "2")

    def start_sink(self, name: str = "sink") -> None:
        self.start(name, "runsink", *SINK_OPTIONS)

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown code runs, whatever the process held is left unacknowledged."""
        process = self.processes[name]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self, name: str) -> int | None:
        """SIGTERM and wait for a clean exit (SIGKILL after 20 s); returns the exit code."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.terminate()
        try:
            return process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
            return None

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def check_alive(self) -> None:
        """Fail at once, with the end of its log, if a process exited that no test stopped."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}; the end of "
                                     f"{self.log_dir / name}.log:\n{self.log_tail(name)}")

    def wait_receiver_ready(self, timeout: float = 30.0) -> None:
        """The receiver answers /readyz 200 once it is connected to NATS and has read the config bucket."""
        wait_http_ok(f"{self.receiver_url}/readyz", alive=self.check_alive, timeout=timeout,
                     what=f"the receiver (logs in {self.log_dir})")

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
