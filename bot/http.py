"""HTTP mode: a WSGI app with ``POST /slack/events`` and ``GET /healthz``, served by waitress.

waitress is a production WSGI server that runs in this one process (threads), so the
scheduler can live beside it (``python -m bot``); a ``Procfile`` web replica runs the
same server without the scheduler.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def wsgi_app(
    app: App, ready: threading.Event, healthy: Callable[[], bool] = lambda: True
) -> Callable[..., Iterable[bytes]]:
    """Route the two paths; everything else is 404, other methods 405. ``/healthz`` is
    200 once ``ready`` is set and while ``healthy()`` holds (the database is usable)."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            ok = ready.is_set() and healthy()
            body = b"ok\n" if ok else (b"unhealthy\n" if ready.is_set() else b"starting\n")
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if path == EVENTS_PATH:
            if method != "POST":
                start_response("405 Method Not Allowed", [("Allow", "POST")])
                return [b""]
            return slack(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return application


def serve(application: Callable[..., Iterable[bytes]], port: int, *, threads: int = 16) -> Any:
    """A waitress server bound to ``port`` (0.0.0.0); call ``.run()`` to serve."""
    from waitress.server import create_server

    # a deep accept backlog: a burst of slash commands must queue, not be refused/retried
    return create_server(
        application,
        host="0.0.0.0",
        port=port,
        threads=threads,
        backlog=2048,
        connection_limit=1000,
        channel_timeout=30,
        ident="skillbot",
    )
