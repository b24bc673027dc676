"""The fake Slack's HTTP side: the recorded call and page request types, and the routing
of ``/api/METHOD``, ``/response/…`` (response_url posts) and mounted pages to the fake."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
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
#: what the fake answers: (status, extra headers, body)
Answer = tuple[int, dict[str, str], Any]


class Answering(Protocol):
    """What :func:`serve` needs of the fake."""

    base_url: str

    def _route_for(self, path: str) -> Route | None: ...

    def _handle(self, method: str, params: dict[str, Any], token: str | None) -> Answer: ...


def serve(fake: Answering, verb: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Answer:
    """One HTTP request to ``fake``: ``/api/METHOD`` and ``/response/…`` are
    recorded calls, any other path goes to the route mounted for it."""
    url = urlsplit(raw_path)
    params = _form(url.query)
    content_type = headers.get("content-type", "")
    if url.path.startswith("/api/"):
        method = url.path[len("/api/") :]
        params.update(_parse_body(raw, content_type))
    elif url.path.startswith("/upload/"):  # files.getUploadURLExternal's upload_url
        method = "file_upload"
        params = {"file_id": url.path[len("/upload/") :], "size": len(raw), "_content": raw}
    elif url.path.startswith("/response/"):
        method = "response_url"
        params.update(_parse_body(raw, "application/json"))
        params["_url"] = fake.base_url + url.path
    else:
        route = fake._route_for(url.path)
        if route is None:
            return 404, {}, {"ok": False, "error": "not_found"}
        page = route(WebRequest(verb, url.path, params, raw, content_type))
        return page.status, {"Content-Type": page.content_type, **page.headers}, page.body
    token = _bearer(headers.get("authorization")) or params.pop("token", None)
    status, extra, body = fake._handle(method, params, token)
    if isinstance(body, str):
        extra = {"Content-Type": "text/plain; charset=utf-8", **extra}
    return status, extra, body


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
