"""Loopback HTTP(S) servers for the outbound tests: keep-alive, TLS certificates chosen by SNI, raw answers."""

from __future__ import annotations

import asyncio
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.loopback_http import serve_in_thread, stop_serving, write_answer


class KeepAliveServer:
    """HTTP/1.1 with keep-alive on 127.0.0.1, optionally TLS; records (Host header, connection number)."""

    def __init__(self, tls: ssl.SSLContext | None = None, status: int = 200, body: bytes = b"ok",
                 headers: dict[str, str] | None = None):
        self.requests: list[tuple[str, int]] = []
        self.connections = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with server.lock:
                    server.connections += 1
                    self.number = server.connections

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server.lock:
                    server.requests.append((self.headers.get("Host", ""), self.number))
                write_answer(self, status, body, headers)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        if tls is not None:
            self.http.socket = tls.wrap_socket(self.http.socket, server_side=True)
        self.port = serve_in_thread(self.http)

    def close(self) -> None:
        stop_serving(self.http)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """Read one request (head and Content-Length body); returns its head."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    await reader.readexactly(length)
    return head


async def raw_server(answer: bytes, then_every_300ms: bytes = b"") -> tuple[asyncio.AbstractServer, int]:
    """Reads one request and writes ``answer`` as it is (for answers a well-behaved server would not
    give); with ``then_every_300ms`` it keeps writing that, for ever, instead of closing."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await read_request(reader)
            writer.write(answer)
            await writer.drain()
            while then_every_300ms:
                await asyncio.sleep(0.3)
                writer.write(then_every_300ms)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def trickling_server() -> tuple[asyncio.AbstractServer, int]:
    """Answers 200 with a chunked body that sends one byte every 0.3 s, for ever."""
    return await raw_server(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"1\r\nx\r\n")


class ScriptedServer:
    """Runs ``script(reader, writer, number)`` for each connection (numbered from 1); counts connections."""

    def __init__(self, script):
        self.script = script
        self.connections = 0
        self.events: list[str] = []

    async def start(self) -> int:
        async def handle(reader, writer):
            self.connections += 1
            try:
                await self.script(reader, writer, self.connections)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def __aenter__(self) -> ScriptedServer:
        self.port = await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.server.close()
