"""A small threaded HTTP server on 127.0.0.1 for the local stand-ins (fake Slack, fake SMAPI).

The stand-in gives one function, ``handle(method, raw_path, headers, body) -> (status,
extra headers, payload)``; a dict or list payload is sent as JSON, and a ``Content-Type``
among the extra headers replaces the server's. Headers and body go out in two writes, so
Nagle's algorithm is off (else each answer waits ~40 ms)::

    with JsonServer(handle) as server:
        urllib.request.urlopen(server.base_url + "/ping")
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Handle = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], Any]]
#: a payload that makes the server close the connection without answering (a lost answer)
HANG_UP = object()


class JsonServer:
    """``port`` 0 lets the OS choose; ``idle_timeout`` ends idle keep-alive connections
    (None keeps them, as a browser's page expects)."""

    def __init__(
        self,
        handle: Handle,
        *,
        content_type: str = "application/json",
        port: int = 0,
        idle_timeout: float | None = 5,
    ) -> None:
        handler = _handler_for(handle, content_type, idle_timeout)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def __enter__(self) -> JsonServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _encode(payload: Any) -> bytes:
    if payload is None:
        return b""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload).encode()


def _handler_for(
    handle: Handle, content_type: str, idle_timeout: float | None
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = idle_timeout
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw_body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, extra_headers, payload = handle(self.command, self.path, headers, raw_body)
            if payload is HANG_UP:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            data = _encode(payload)
            headers = {"Content-Type": content_type, **extra_headers} if data else extra_headers
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if data:
                    self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                # the client gave up (a timeout test, a page closed during its long poll)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test and demo output quiet

    return Handler
