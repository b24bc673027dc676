"""A small threaded HTTP server on 127.0.0.1 for the local stand-ins (fake SMAPI, …).

The stand-in gives one function, ``handle(method, raw_path, headers, body) -> (status,
extra headers, payload)``; a dict or list payload is sent as JSON. Headers and body go
out in two writes, so Nagle's algorithm is off (else each answer waits ~40 ms)::

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


class JsonServer:
    def __init__(self, handle: Handle, *, content_type: str = "application/json") -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(handle, content_type))
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


def _handler_for(handle: Handle, content_type: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 5  # idle keep-alive connections end on their own
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
            data = _encode(payload)
            try:
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra_headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if data:
                    self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test and demo output quiet

    return Handler
