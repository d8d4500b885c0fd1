"""Run the whole stack for development: NATS (embedded if needed), web app, and the data plane workers.

Each part runs as a child process; one that dies is restarted with a growing delay.
Ctrl-C or SIGTERM stops the children (SIGTERM, then SIGKILL after a grace period) and
then the embedded nats-server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand

from glassflow_site.natsserver import NatsServer, free_port, is_reachable

GRACE_SECONDS = 15


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(self.command, env=env, start_new_session=True)
        self.started_at = time.monotonic()


class Command(BaseCommand):
    help = "Start the control plane, receiver, pipeline and sink workers (and nats-server if none is reachable)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address the web app and receiver listen on")
        parser.add_argument("--port", type=int, default=8000, help="port of the web app and API")
        parser.add_argument("--receiver-port", type=int, default=4318, help="port of the OTLP/HTTP receiver")
        parser.add_argument("--with-example-agent", action="store_true",
                            help="also run the example triage agent on port 9000")

    def handle(self, *args, **options):
        self.stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())

        env = dict(os.environ)
        nats_server = self.start_nats(env)
        children = self.children(options)
        try:
            for child in children:
                child.start(env)
            self.announce(options, env["NATS_URL"], nats_server is not None, children)
            self.supervise(children, env)
        finally:
            self.shutdown(children)
            if nats_server is not None:
                nats_server.stop()
                self.stdout.write("nats-server stopped.")

    def start_nats(self, env: dict[str, str]) -> NatsServer | None:
        configured = os.environ.get("NATS_URL")
        if configured and is_reachable(configured):
            return None
        if configured:
            self.stderr.write(f"NATS_URL={configured} is unreachable; starting an embedded nats-server instead.")
        port = 4222 if not is_reachable("nats://127.0.0.1:4222") else free_port()
        server = NatsServer(settings.VAR_DIR / "nats", port=port).start()
        env["NATS_URL"] = server.url
        return server

    def children(self, options) -> list[Child]:
        python = sys.executable
        manage = [python, str(settings.BASE_DIR / "manage.py")]
        children = [Child("web", [python, "-m", "uvicorn", "glassflow_site.asgi:application", "--host",
                                  options["host"], "--port", str(options["port"]), "--no-access-log", "--lifespan", "off"])]
        available = get_commands()
        if "runreceiver" in available:
            children.append(Child("receiver", [*manage, "runreceiver", "--host", options["host"], "--port",
                                               str(options["receiver_port"])]))
        for worker in ("runpipeline", "runsink"):
            if worker in available:
                children.append(Child(worker.removeprefix("run"), [*manage, worker]))
        if options["with_example_agent"]:
            agent = settings.BASE_DIR / "examples" / "agents" / "triage" / "agent.py"
            if agent.exists():
                children.append(Child("example-agent", [python, str(agent)]))
            else:
                self.stderr.write("--with-example-agent: the example agent is not part of this version yet.")
        return children

    def announce(self, options, nats_url: str, embedded: bool, children: list[Child]) -> None:
        base = f"http://{options['host']}:{options['port']}"
        lines = [
            "",
            "GlassFlow AI Runtime is starting:",
            f"  web UI          {base}/",
            f"  sign up         {base}/accounts/signup/   (then log in with that e-mail and password)",
            f"  REST API docs   {base}/api/v1/docs/",
            f"  OpenAPI schema  {base}/api/v1/schema/",
            f"  Django admin    {base}/admin/   (create an operator: make superuser)",
        ]
        if settings.INTERNAL_SERVICE_TOKEN and settings.INTERNAL_API_ON_PUBLIC:
            lines.append(f"  internal API    {base}/internal/v1/projects/<id>/config   "
                         f"(Authorization: Bearer {settings.INTERNAL_SERVICE_TOKEN})")
        if any(child.name == "receiver" for child in children):
            lines.append(f"  OTLP/HTTP       http://{options['host']}:{options['receiver_port']}/v1/logs   "
                         "(OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)")
            lines.append(f"  OTLP/gRPC       http://{options['host']}:4317   (OTEL_EXPORTER_OTLP_PROTOCOL=grpc)")
        where = f" (embedded, data in {settings.VAR_DIR / 'nats'})" if embedded else ""
        lines.append(f"  NATS            {nats_url}{where}")
        lines.append(f"  processes       {', '.join(child.name for child in children)}")
        lines.append("Press Ctrl-C to stop everything.")
        self.stdout.write("\n".join(lines))

    def supervise(self, children: list[Child], env: dict[str, str]) -> None:
        while not self.stop.wait(0.5):
            for child in children:
                code = child.process.poll() if child.process else None
                if code is None:
                    continue
                stable = time.monotonic() - child.started_at > 30
                child.restarts = 0 if stable else child.restarts + 1
                delay = min(30, 2 ** child.restarts)
                self.stderr.write(f"{child.name} exited with {code}; restarting in {delay}s")
                if self.stop.wait(delay):
                    return
                child.start(env)

    def shutdown(self, children: list[Child]) -> None:
        running = [child for child in children if child.process and child.process.poll() is None]
        for child in running:
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in running:
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{child.name} did not stop within {GRACE_SECONDS}s; killing it")
                child.process.kill()
                child.process.wait()
        self.stdout.write("All processes stopped.")
