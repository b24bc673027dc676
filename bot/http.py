"""HTTP mode: a WSGI app with ``POST /slack/events`` and ``GET /healthz``, served by waitress.

waitress is a production WSGI server that runs in this one process (threads), so the
scheduler can live beside it (``python -m bot``); a ``Procfile`` web replica runs the
same server without the scheduler.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
#: Slack's payloads are a few KiB; anything near this is not from Slack
MAX_BODY_BYTES = 1024 * 1024


class RawBodyVerifier(SignatureVerifier):
    """slack_sdk's verifier (5-minute window, constant-time comparison) over the raw
    bytes: the library decodes them as UTF-8 first, which fails on the very bodies that
    must be refused."""

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str | None:
        if timestamp is None:
            return None
        raw = body.encode() if isinstance(body, str) else body
        message = b"v0:" + timestamp.encode() + b":" + raw
        digest = hmac.new(self.signing_secret.encode(), message, hashlib.sha256).hexdigest()
        return f"v0={digest}"


def _plain(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def slack_events(
    app: App, signing_secret: str
) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """``POST /slack/events``: the size is checked before the body is read, the signature
    on the raw bytes before anything parses them; only then does Bolt see the request."""
    verifier = RawBodyVerifier(signing_secret) if signing_secret else None

    def events(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _plain(start_response, "400 Bad Request", "bad Content-Length\n")
        if length > MAX_BODY_BYTES:
            return _plain(start_response, "413 Request Entity Too Large", "too large\n")
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        request = WsgiHttpRequest(environ)
        headers = request.get_headers()
        if verifier is not None and not _signed(verifier, raw, headers):
            return _plain(start_response, "401 Unauthorized", "invalid signature\n")
        try:
            bolt_request = BoltRequest(
                body=raw.decode("utf-8"), query=request.query_string, headers=headers
            )
        except (UnicodeDecodeError, ValueError, AttributeError, TypeError):
            log.info("a signed request whose body does not parse was refused (400)")
            return _plain(start_response, "400 Bad Request", "unparseable body\n")
        if not _well_formed(bolt_request.body):
            log.info("a signed request without the fields Slack sends was refused (400)")
            return _plain(start_response, "400 Bad Request", "malformed payload\n")
        bolt = app.dispatch(bolt_request)
        response = WsgiHttpResponse(status=bolt.status, headers=bolt.headers, body=bolt.body)
        start_response(response.status, response.get_headers())
        return response.get_body()

    return events


def _well_formed(body: dict[str, Any]) -> bool:
    """The fields Bolt routes by have the types Slack sends them with (a signed request
    from a broken client may not: Bolt would answer 500 with a traceback)."""
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        return isinstance(event, dict) and isinstance(event.get("type"), str)
    if kind == "block_actions":
        actions = body.get("actions")
        return isinstance(actions, list) and all(isinstance(a, dict) for a in actions)
    return True


def _signed(verifier: SignatureVerifier, raw: bytes, headers: dict[str, Any]) -> bool:
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    try:
        return verifier.is_valid(raw, str(timestamp), str(signature)) if signature else False
    except ValueError:  # a timestamp that is not a number
        return False


def wsgi_app(
    app: App,
    ready: threading.Event,
    healthy: Callable[[], bool] = lambda: True,
    *,
    signing_secret: str,
) -> Callable[..., Iterable[bytes]]:
    """Route the two paths; everything else is 404, other methods 405. Slack requests
    must carry ``signing_secret``'s signature (an empty secret leaves it to Bolt).
    ``/healthz`` is 200 once ``ready`` is set and while ``healthy()`` holds (the database
    is usable)."""
    slack = slack_events(app, signing_secret)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            if ready.is_set() and healthy():
                return _plain(start_response, "200 OK", "ok\n")
            body = "unhealthy\n" if ready.is_set() else "starting\n"
            return _plain(start_response, "503 Service Unavailable", body)
        if path == EVENTS_PATH:
            if method != "POST":
                start_response("405 Method Not Allowed", [("Allow", "POST")])
                return [b""]
            return slack(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return application


#: a request must arrive whole within this (a client trickling a byte every few seconds
#: would otherwise hold one of the server's connections for as long as it likes)
REQUEST_DEADLINE = 10.0


def serve(
    application: Callable[..., Iterable[bytes]],
    port: int,
    *,
    threads: int = 16,
    connection_limit: int = 1000,
    request_deadline: float = REQUEST_DEADLINE,
) -> Any:
    """A waitress server bound to ``port`` (0.0.0.0); call ``.run()`` to serve.

    A connection idle for 30 s is closed, and so is one whose request has not arrived
    whole within ``request_deadline`` seconds, checked every second: slow clients can
    never hold every connection and keep ``/healthz`` unanswered."""
    from waitress.channel import HTTPChannel
    from waitress.server import create_server

    class DeadlineChannel(HTTPChannel):
        #: when the request being received began (None between requests)
        request_started: float | None = None

        def received(self, data: bytes) -> bool:
            done = bool(super().received(data))
            if self.request is None:
                self.request_started = None
            elif self.request_started is None:
                self.request_started = time.time()
            return done

    # a deep accept backlog: a burst of slash commands must queue, not be refused/retried
    server = create_server(
        application,
        host="0.0.0.0",
        port=port,
        threads=threads,
        backlog=2048,
        connection_limit=connection_limit,
        channel_timeout=30,
        cleanup_interval=1,
        # waitress refuses (413) a larger body before buffering it
        max_request_body_size=MAX_BODY_BYTES,
        ident="skillbot",
    )
    server.channel_class = DeadlineChannel
    idle_check = server.maintenance

    def maintenance(now: float) -> None:
        idle_check(now)
        for channel in list(server.active_channels.values()):
            started = getattr(channel, "request_started", None)
            if started is not None and now - started > request_deadline:
                channel.will_close = True

    server.maintenance = maintenance
    return server
