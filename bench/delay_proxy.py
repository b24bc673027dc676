"""A small threaded HTTP proxy that makes every request to an upstream take longer.

Put it between the bot and moto_server (``AWS_ENDPOINT_URL=proxy.url``) to make every
AWS call take ``delay`` seconds more, as a slow or throttled AWS would::

    with DelayProxy("http://127.0.0.1:5000", delay=1.0) as proxy:
        env["AWS_ENDPOINT_URL"] = proxy.url

Each client connection is served by its own thread with keep-alive, so concurrent
calls are delayed concurrently, not one after the other. The benchmarks run it as its
own process (``python -m bench.delay_proxy UPSTREAM DELAY PORT``), so its threads never
compete with the benchmark's own timing for the GIL. ``GET /__bench_proxy/count`` answers
how many requests it has forwarded.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# not forwarded in either direction (RFC 9110 §7.6.1)
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)


#: GET this path of the proxy for the number of requests it forwarded so far
COUNT_PATH = "/__bench_proxy/count"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a burst of calls is queued, not refused


class DelayProxy:
    def __init__(self, upstream: str, delay: float, *, port: int = 0) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.delay = delay
        self.requests = 0
        self._count_lock = threading.Lock()
        self._closed = threading.Event()
        self._server = _Server(("127.0.0.1", port), _handler_for(self))
        port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="delay-proxy",
            daemon=True,
        )
        self._thread.start()

    def __enter__(self) -> DelayProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()  # cuts pending delays short
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _count(self) -> None:
        with self._count_lock:
            self.requests += 1


def _handler_for(proxy: DelayProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as botocore expects from AWS
        # headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer on a kept-alive connection
        disable_nagle_algorithm = True
        upstream: http.client.HTTPConnection | None = None

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._forward()

        do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

        def _forward(self) -> None:
            if self.path == COUNT_PATH:  # the proxy's own counter, not forwarded
                data = str(proxy.requests).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            proxy._count()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if proxy._closed.wait(proxy.delay):
                self.close_connection = True
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            if body is not None:
                headers["Content-Length"] = str(len(body))
            try:
                status, reason, out_headers, data = self._upstream(headers, body)
            except OSError as err:
                status, reason, out_headers, data = 502, "Bad Gateway", [], str(err).encode()
            try:
                self.send_response(status, reason)
                for name, value in out_headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting

        def _upstream(
            self, headers: dict[str, str], body: bytes | None
        ) -> tuple[int, str, list[tuple[str, str]], bytes]:
            # one upstream connection per client connection, reopened once if it went stale
            for attempt in (1, 2):
                if self.upstream is None:
                    self.upstream = http.client.HTTPConnection(
                        proxy.upstream_host, proxy.upstream_port, timeout=30
                    )
                try:
                    self.upstream.request(self.command, self.path, body=body, headers=headers)
                    response = self.upstream.getresponse()
                    data = response.read()
                    return response.status, response.reason, response.getheaders(), data
                except (http.client.HTTPException, ConnectionError):
                    self.upstream.close()
                    self.upstream = None
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

        def finish(self) -> None:
            super().finish()
            if self.upstream is not None:
                self.upstream.close()

    return Handler


def _self_check(delay: float = 0.2) -> None:
    """``python -m bench.delay_proxy``: the proxy adds its delay to a local server."""
    import urllib.request

    hits = 0

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            nonlocal hits
            hits += 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with DelayProxy(f"http://127.0.0.1:{server.server_address[1]}", delay) as proxy:
            started = time.monotonic()
            with urllib.request.urlopen(proxy.url + "/x", timeout=5) as response:
                assert response.read() == b"ok"
            took = time.monotonic() - started
        print(f"proxied GET took {took * 1000:.0f} ms with a {delay * 1000:.0f} ms delay")
        assert took >= delay and hits == 1
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM/Ctrl-C: ``python -m bench.delay_proxy UPSTREAM DELAY PORT``."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(prog="python -m bench.delay_proxy")
    parser.add_argument("upstream", nargs="?")
    parser.add_argument("delay", nargs="?", type=float, default=1.0)
    parser.add_argument("port", nargs="?", type=int, default=0)
    parser.add_argument("--self-check", action="store_true")
    args = parser.parse_args(argv)
    if args.self_check or not args.upstream:
        _self_check()
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with DelayProxy(args.upstream, args.delay, port=args.port) as proxy:
        print(f"delaying {args.delay} s: {proxy.url} -> {args.upstream}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        print(f"{proxy.requests} requests proxied", flush=True)


if __name__ == "__main__":
    main()
