"""The fake Slack's HTTP side: the recorded call and page request types, and the request
handler that routes ``/api/METHOD``, ``/response/…`` (response_url posts) and mounted
pages to the fake."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

# Form fields that carry JSON text; decoded so tests compare Python objects.
_JSON_FIELDS = frozenset({"blocks", "attachments", "view", "metadata", "user_auth_blocks"})


@dataclass(frozen=True)
class Call:
    """One request the fake received.

    ``params`` holds the merged query, form or JSON fields, with JSON-text fields such as
    ``blocks`` decoded. ``status`` and ``response`` are what the fake answered, so views
    can leave out calls that were refused by ``fail_next``.
    """

    method: str
    params: dict[str, Any]
    token: str | None
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass(frozen=True)
class WebRequest:
    """A request to a path served by a :meth:`FakeSlack.mount`-ed route."""

    verb: str  # GET, POST, ...
    path: str
    query: dict[str, Any]
    body: bytes
    content_type: str


@dataclass(frozen=True)
class WebResponse:
    """What a mounted route answers; ``body`` is sent as is with ``content_type``."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200) -> WebResponse:
        return cls(status, json.dumps(value).encode())


Route = Callable[[WebRequest], WebResponse]


class Answering(Protocol):
    """What the handler needs of the fake."""

    base_url: str

    def _route_for(self, path: str) -> Route | None: ...

    def _handle(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any] | str]: ...


def handler_for(fake: Answering) -> type[BaseHTTPRequestHandler]:
    """The request handler class of a server that answers as ``fake``."""
    return type("Handler", (_Handler,), {"fake": fake})


class _Handler(BaseHTTPRequestHandler):
    fake: Answering
    protocol_version = "HTTP/1.1"  # every answer carries Content-Length
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        params = _form(url.query)
        if url.path.startswith("/api/"):
            method = url.path[len("/api/") :]
            params.update(_parse_body(raw, self.headers.get("Content-Type", "")))
        elif url.path.startswith("/response/"):
            method = "response_url"
            params.update(_parse_body(raw, "application/json"))
            params["_url"] = self.fake.base_url + url.path
        else:
            self._serve_page(url.path, params, raw)
            return
        token = _bearer(self.headers.get("Authorization")) or params.pop("token", None)
        status, headers, body = self.fake._handle(method, params, token)
        self._send(status, headers, body)

    def _serve_page(self, path: str, params: dict[str, Any], raw: bytes) -> None:
        route = self.fake._route_for(path)
        if route is None:
            self._send(404, {}, {"ok": False, "error": "not_found"})
            return
        response = route(WebRequest(self.command, path, params, raw, _ctype(self)))
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            # a page closed while its long poll waited: nobody is left to answer
            self.close_connection = True

    def _send(self, status: int, headers: dict[str, str], body: dict[str, Any] | str) -> None:
        if isinstance(body, str):
            data, content_type = body.encode(), "text/plain; charset=utf-8"
        else:
            data, content_type = json.dumps(body).encode(), "application/json; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _ctype(handler: BaseHTTPRequestHandler) -> str:
    return str(handler.headers.get("Content-Type", ""))


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[len("bearer ") :].strip()
    return None


def _form(text: str) -> dict[str, Any]:
    fields = parse_qs(text, keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in fields.items()}


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """Decode a JSON or form-encoded body; JSON-text fields become Python objects."""
    if not raw:
        return {}
    text = raw.decode("utf-8")
    if "json" in content_type.lower() or text.lstrip().startswith("{"):
        parsed = json.loads(text)
        params = parsed if isinstance(parsed, dict) else {"_body": parsed}
    else:
        params = _form(text)
    for key in _JSON_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str):
            # Text that is not JSON stays text; the failing assertion will show it.
            with contextlib.suppress(json.JSONDecodeError):
                params[key] = json.loads(value)
    return params
