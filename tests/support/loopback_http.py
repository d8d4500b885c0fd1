"""The plumbing of the threaded loopback HTTP servers the tests stand up (``http.server``): serve on a
daemon thread, stop listening, and write one whole answer."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve_in_thread(server: ThreadingHTTPServer, name: str | None = None) -> int:
    """Serve ``server`` on a daemon thread; returns the port it listens on."""
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server.server_address[1]


def stop_serving(server: ThreadingHTTPServer) -> None:
    """Stop serving and close the listening socket: new connections are refused."""
    server.shutdown()
    server.server_close()


def write_answer(handler: BaseHTTPRequestHandler, status: int, body: bytes,
                 headers: dict[str, str] | None = None) -> None:
    """Status line, ``headers``, Content-Length and ``body``."""
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
