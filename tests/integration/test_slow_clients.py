"""Clients that trickle a request a byte at a time cannot hold every connection of the
HTTP server: each is closed once its request has not arrived whole within the deadline,
and ``/healthz`` is answered again."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from bot.devkit.json_server import free_port
from bot.http import serve

LIMIT = 20
DEADLINE = 2.0


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]


@pytest.fixture
def server() -> Iterator[int]:
    port = free_port()
    srv = serve(app, port, threads=2, connection_limit=LIMIT, request_deadline=DEADLINE)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield port
    srv.task_dispatcher.shutdown()
    srv.close()


def healthz(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
            return resp.status
    except OSError:
        return None


def test_trickling_clients_are_cut_off_and_health_is_answered_again(server):
    port = server
    assert healthz(port) == 200
    slow = []
    for _ in range(LIMIT + 5):  # more than the server takes at once
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    stop = threading.Event()

    def trickle() -> None:  # a header line every half second: never idle, never done
        while not stop.is_set():
            for s in slow:
                with contextlib.suppress(OSError):
                    s.sendall(b"X")
            stop.wait(0.5)

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        began = time.monotonic()
        answered = None
        while time.monotonic() - began < DEADLINE + 10:
            if healthz(port) == 200:
                answered = time.monotonic() - began
                break
        assert answered is not None, "the trickling clients kept /healthz unanswered"
        for s in slow[:LIMIT]:  # the ones the server took were closed by it
            s.settimeout(5)
            with contextlib.suppress(ConnectionResetError):
                assert s.recv(1024) == b""
    finally:
        stop.set()
        trickler.join(5)
        for s in slow:
            s.close()
