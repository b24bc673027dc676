"""An HTTP proxy in front of moto_server that can hold one AWS call after AWS did it.

It forwards a matching request, then keeps the answer back until released: a test can
``kill -9`` the bot exactly between "AWS changed" and "the bot heard about it"::

    with FreezingProxy(moto_url) as proxy:
        proxy.freeze("PUT", "/aliases/PROD2")
        ...                                  # the bot confirms a certify
        proxy.reached.wait(10); bot.kill()
"""

from __future__ import annotations

import contextlib
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FreezingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.reached = threading.Event()
        self.release = threading.Event()
        self._rule: tuple[str, str] | None = None
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def freeze(self, method: str, path_part: str) -> None:
        """Hold the answer of the next ``method`` request whose path contains ``path_part``."""
        with self._lock:
            self._rule = (method, path_part)
            self.reached.clear()
            self.release.clear()

    def disarm(self) -> None:
        """Hold no further call, and let go of one held now (its caller may be dead)."""
        with self._lock:
            self._rule = None
        self.release.set()

    def _should_freeze(self, method: str, path: str) -> bool:
        with self._lock:
            if self._rule and self._rule[0] == method and self._rule[1] in path:
                self._rule = None
                return True
            return False

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FreezingProxy:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _handler(proxy: FreezingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            request = urllib.request.Request(
                proxy.upstream + self.path, data=body, headers=headers, method=self.command
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status, data, out = response.status, response.read(), response.headers
            except urllib.error.HTTPError as err:
                status, data, out = err.code, err.read(), err.headers
            if proxy._should_freeze(self.command, self.path):
                proxy.reached.set()
                proxy.release.wait(60)
            self.send_response(status)
            for key, value in out.items():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the bot died while we held its answer
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

    return Handler
